//! The tables on the wire (SPEC §4): their columns, kinds and write rights.
//! Tables change only by adding columns.

/// What a column holds and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free text, at most 1,000 characters.
    Text,
    /// `true`/`false`; null is stored as `false`.
    Bool,
    /// A whole number in `min..=max`.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A decimal number in `min..=max`.
    Float {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// Milliseconds since the Unix epoch (UTC).
    Instant,
    /// A local date, `YYYY-MM-DD`.
    Date,
    /// A local time, `HH:MM`.
    LocalTime,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// An IANA time-zone name known to the system's zone database.
    TimeZone,
    /// The id of another synced record.
    Ref,
    /// An ISO 639-1 language code in lower case (a BCP 47 primary language
    /// subtag: `en`, `es`); null is stored as [`crate::messages::FALLBACK`].
    Language,
    /// An ISO 3166-1 alpha-2 country code in upper case (`US`, `DE`).
    Country,
}

impl Kind {
    /// What a null of this kind is stored as: `false` for a boolean, the
    /// default language for a language, null otherwise.
    pub fn null_cell(self) -> super::Cell {
        match self {
            Kind::Bool => super::Cell::Bool(false),
            Kind::Language => super::Cell::Text(crate::messages::FALLBACK.to_owned()),
            _ => super::Cell::Null,
        }
    }
}

/// One column of a synced table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnSpec {
    /// Name on the wire and in the database.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether a pushed record must carry a non-null value.
    pub required: bool,
}

/// Who writes a table from a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The patient creates, updates and deletes rows.
    ReadWrite,
    /// Server-written; the patient may only change these columns of
    /// existing rows.
    ReadOnlyExcept(&'static [&'static str]),
}

/// One synced table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSpec {
    /// Name on the wire and in the database.
    pub name: &'static str,
    /// Who writes it.
    pub access: Access,
    /// Whether its one row's id must be the patient's user id.
    pub id_is_patient: bool,
    /// Data columns (besides `id`).
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// The column named `name`, if the table has it.
    pub fn column(&self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether a device may write `column` of an existing row.
    pub fn patient_writes_column(&self, column: &str) -> bool {
        match self.access {
            Access::ReadWrite => true,
            Access::ReadOnlyExcept(columns) => columns.contains(&column),
        }
    }

    /// A full row for a server-side write: every column in table order, with
    /// the given values and the rest null (`false` for booleans). Names the
    /// table does not have are ignored.
    pub fn row(&self, values: Vec<(&str, super::Cell)>) -> Vec<(&'static ColumnSpec, super::Cell)> {
        let mut values = values;
        self.columns
            .iter()
            .map(|column| {
                let given = values
                    .iter()
                    .position(|(name, _)| *name == column.name)
                    .map(|i| values.swap_remove(i).1);
                (column, given.unwrap_or_else(|| column.kind.null_cell()))
            })
            .collect()
    }

    /// Just the given columns, for a server-side update of part of a row.
    /// Names the table does not have are ignored.
    pub fn cells(
        &self,
        values: Vec<(&str, super::Cell)>,
    ) -> Vec<(&'static ColumnSpec, super::Cell)> {
        values
            .into_iter()
            .filter_map(|(name, cell)| self.column(name).map(|c| (c, cell)))
            .collect()
    }

    /// Whether a device may create or delete rows.
    pub fn patient_creates(&self) -> bool {
        matches!(self.access, Access::ReadWrite)
    }

    /// Whether a device may change any column of an existing row (a table
    /// the care team writes alone is refused whole, even an update that
    /// names no column).
    pub fn patient_updates(&self) -> bool {
        match self.access {
            Access::ReadWrite => true,
            Access::ReadOnlyExcept(columns) => !columns.is_empty(),
        }
    }
}

/// The table named `name`, if it is synced.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

const fn col(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required: false,
    }
}

const fn req(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required: true,
    }
}

const NRS: Kind = Kind::Int { min: 0, max: 10 };
const COUNT: Kind = Kind::Int {
    min: 0,
    max: 100_000,
};
const MINUTES: Kind = Kind::Int {
    min: 0,
    max: 24 * 60,
};

/// Every synced table, in the order pulls list them.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "profiles",
        access: Access::ReadWrite,
        id_is_patient: true,
        columns: &[
            req("timezone", Kind::TimeZone),
            col("birth_date", Kind::Date),
            col(
                "sex",
                Kind::Enum(&["female", "male", "other", "unspecified"]),
            ),
            col("osteoporosis", Kind::Bool),
            col("long_term_steroids", Kind::Bool),
            col("cancer_history", Kind::Bool),
            col("reminders_enabled", Kind::Bool),
            col("stretch_reminder_time", Kind::LocalTime),
            col("quiet_start", Kind::LocalTime),
            col("quiet_end", Kind::LocalTime),
            col("language", Kind::Language),
            col("country", Kind::Country),
        ],
    },
    TableSpec {
        name: "sleep_logs",
        access: Access::ReadWrite,
        id_is_patient: false,
        columns: &[
            req("night_of", Kind::Date),
            col("bedtime", Kind::Instant),
            col("wake_time", Kind::Instant),
            col("quality", Kind::Int { min: 1, max: 5 }),
            col("awakenings", Kind::Int { min: 0, max: 100 }),
            col("woke_from_pain", Kind::Bool),
            col(
                "position",
                Kind::Enum(&["back", "side", "stomach", "mixed"]),
            ),
            col("pillow_between_knees", Kind::Bool),
            col("pillow_under_knees", Kind::Bool),
            col("pillow_under_hips", Kind::Bool),
            col("morning_stiffness_minutes", MINUTES),
            col("mattress_sagging", Kind::Bool),
            col("pressure_points", Kind::Bool),
            col("note", Kind::Text),
            // Added with SPEC §13: what the tips read.
            col(
                "head_pillow",
                Kind::Enum(&["none", "flat", "medium", "thick"]),
            ),
            col("knees_bent", Kind::Bool),
            col("lumbar_support", Kind::Bool),
            col("heat_before_bed", Kind::Bool),
            col("stretched_before_bed", Kind::Bool),
            col("late_heavy_meal", Kind::Bool),
            col("alcohol_evening", Kind::Bool),
            col("caffeine_late", Kind::Bool),
            col("woke_second_half", Kind::Bool),
        ],
    },
    TableSpec {
        name: "pain_logs",
        access: Access::ReadWrite,
        id_is_patient: false,
        columns: &[
            req("recorded_at", Kind::Instant),
            req("intensity", NRS),
            col(
                "location",
                Kind::Enum(&["lower_back", "upper_back", "neck", "hip", "leg", "other"]),
            ),
            col(
                "period",
                Kind::Enum(&["night", "morning", "day", "evening"]),
            ),
            col("eased_by_rest", Kind::Bool),
            col("legs_affected", Kind::Enum(&["none", "one", "both"])),
            col("leg_numbness", Kind::Bool),
            col("leg_tingling", Kind::Bool),
            col("leg_weakness", Kind::Bool),
            col("bladder_control_loss", Kind::Bool),
            col("bowel_control_loss", Kind::Bool),
            col("saddle_numbness", Kind::Bool),
            col("fever", Kind::Bool),
            col(
                "temperature_c",
                Kind::Float {
                    min: 30.0,
                    max: 45.0,
                },
            ),
            col("chills", Kind::Bool),
            col("night_sweats", Kind::Bool),
            col("unexplained_weight_loss", Kind::Bool),
            col("trauma", Kind::Enum(&["none", "minor", "major"])),
            col("note", Kind::Text),
            // Added with SPEC §13: how much pain got in the way of daily
            // life or sleep (null when not asked).
            col("interference", NRS),
        ],
    },
    TableSpec {
        name: "mattresses",
        access: Access::ReadWrite,
        id_is_patient: false,
        columns: &[
            req("purchased_on", Kind::Date),
            col(
                "kind",
                Kind::Enum(&["memory_foam", "latex", "innerspring", "hybrid", "other"]),
            ),
            col(
                "firmness",
                Kind::Enum(&["soft", "medium", "medium_firm", "firm"]),
            ),
            col("retired_at", Kind::Instant),
        ],
    },
    TableSpec {
        name: "exercise_sessions",
        access: Access::ReadWrite,
        id_is_patient: false,
        columns: &[
            col("plan_id", Kind::Ref),
            req("performed_at", Kind::Instant),
            col("completed_items", COUNT),
            col("duration_minutes", MINUTES),
            col("pain_before", NRS),
            col("pain_after", NRS),
            col("note", Kind::Text),
        ],
    },
    TableSpec {
        name: "exercise_plans",
        access: Access::ReadOnlyExcept(&[]),
        id_is_patient: false,
        columns: &[
            col("title", Kind::Text),
            col("status", Kind::Enum(&["active", "archived"])),
            col("starts_on", Kind::Date),
            col("ends_on", Kind::Date),
            col("reminder_time", Kind::LocalTime),
            col(
                "version",
                Kind::Int {
                    min: 1,
                    max: i64::MAX,
                },
            ),
            col("therapist_name", Kind::Text),
            col("notes", Kind::Text),
        ],
    },
    TableSpec {
        name: "plan_items",
        access: Access::ReadOnlyExcept(&[]),
        id_is_patient: false,
        columns: &[
            col("plan_id", Kind::Ref),
            col("position", COUNT),
            col("exercise_slug", Kind::Text),
            col("name", Kind::Text),
            col("instructions", Kind::Text),
            col("sets", COUNT),
            col("reps", COUNT),
            col("hold_seconds", COUNT),
            col("times_per_day", COUNT),
            col("image_url", Kind::Text),
            col("image_alt", Kind::Text),
            col("video_url", Kind::Text),
        ],
    },
    TableSpec {
        name: "notifications",
        access: Access::ReadOnlyExcept(&["read_at"]),
        id_is_patient: false,
        columns: &[
            col(
                "kind",
                Kind::Enum(&[
                    "stretch_reminder",
                    "mattress_prompt",
                    "sleep_tip",
                    "pt_referral",
                    "red_flag_advice",
                    "adherence_nudge",
                ]),
            ),
            col("title", Kind::Text),
            col("body", Kind::Text),
            col(
                "severity",
                Kind::Enum(&["info", "routine", "urgent", "emergency"]),
            ),
            col("created_at", Kind::Instant),
            col("read_at", Kind::Instant),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_column_names_are_unique_and_plain() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for table in TABLES {
            let mut columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
            columns.sort_unstable();
            columns.dedup();
            assert_eq!(columns.len(), table.columns.len(), "{}", table.name);
            for name in columns.iter().chain([&table.name]) {
                assert!(
                    name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{name}"
                );
                assert!(
                    !["id", "patient_id", "change_seq", "deleted"].contains(name),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn write_rights() {
        let notifications = table("notifications").unwrap();
        assert!(!notifications.patient_creates());
        assert!(notifications.patient_writes_column("read_at"));
        assert!(!notifications.patient_writes_column("title"));
        assert!(
            !table("exercise_plans")
                .unwrap()
                .patient_writes_column("title")
        );
        assert!(table("pain_logs").unwrap().patient_writes_column("note"));
        assert!(table("profiles").unwrap().id_is_patient);
        assert!(table("users").is_none());
    }
}
