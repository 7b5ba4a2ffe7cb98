//! What dorsal writes for a patient (SPEC §12): the patient's language and
//! country, and the texts rendered for them from the message catalogs
//! ([`crate::messages`]) — red-flag advice naming the patient's own care
//! routes ([`crate::care_routes`]), reminders, prompts, tips and the words of
//! a device push. Code chooses a message and its variables; the words are in
//! `domain/locales/<language>/patient.ftl`.

use crate::care_routes::{UrgentRoute, route};
use crate::messages::{FluentValue, render};
use crate::red_flags::{Rule, Severity};

/// The language a patient reads when they have not chosen one.
pub const DEFAULT_LANGUAGE: &str = crate::messages::FALLBACK;

/// Every ISO 639-1 language code (184, from the Debian `iso-codes` 4.15.0
/// copy of ISO 639-2), sorted: what `profiles.language` accepts. A language
/// without a catalog reads in English until one is added.
pub const LANGUAGES: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Whether `code` is an ISO 639-1 code, written in lower case as BCP 47
/// writes a primary language subtag.
pub fn is_language(code: &str) -> bool {
    LANGUAGES.binary_search(&code).is_ok()
}

/// A patient's language and country, as their profile holds them at the
/// moment a text is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    /// A primary language subtag (`en`, `es`, ...).
    pub language: String,
    /// ISO 3166-1 alpha-2, if the patient gave it.
    pub country: Option<String>,
}

impl Default for Locale {
    fn default() -> Self {
        Locale {
            language: DEFAULT_LANGUAGE.to_owned(),
            country: None,
        }
    }
}

impl Locale {
    /// The catalogs' care-route variables for this patient: `emergency`
    /// (the number, or `none` when the country has no row) and `route`
    /// (the urgent route's id).
    fn route_args(&self) -> [(&'static str, FluentValue<'static>); 2] {
        let known = self.country.as_deref().and_then(route);
        let emergency = known.map_or("none", |r| r.emergency);
        let urgent = known.map_or(UrgentRoute::DoctorOrUrgentCare, |r| r.urgent);
        [
            ("emergency", FluentValue::from(emergency)),
            ("route", FluentValue::from(urgent.id())),
        ]
    }
}

/// An org's own phone line, which its patients' urgent and routine advice
/// adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicLine {
    /// E.164, e.g. `+4930123456`.
    pub phone: String,
    /// When it is answered, in the org's own words.
    pub hours: String,
}

/// A title and a body, rendered for one patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The headline.
    pub title: String,
    /// What to do.
    pub body: String,
}

/// Message `{message}-title` and `{message}-body` in the patient's
/// language, with `args`. `None` only when no catalog has them (a test
/// renders every message the code names).
pub fn text(message: &str, locale: &Locale, args: &[(&str, FluentValue<'_>)]) -> Option<Text> {
    Some(Text {
        title: render(&locale.language, &format!("{message}-title"), args)?,
        body: render(&locale.language, &format!("{message}-body"), args)?,
    })
}

/// The advice a red-flag finding of `rule` at `severity` gives the patient:
/// the rule's words naming the patient's own emergency number and urgent
/// route, and, in urgent and routine advice, the clinic's `line` if it has
/// one, right after what the advice asks the patient to do.
pub fn red_flag(
    rule: &Rule,
    severity: Severity,
    locale: &Locale,
    line: Option<&ClinicLine>,
) -> Option<Text> {
    // The catalogs place the line after what the advice asks the patient
    // to do; `none` leaves it out, as it is for emergency advice.
    let line = line.filter(|_| severity < Severity::Emergency);
    let mut args = locale.route_args().to_vec();
    args.push((
        "phone",
        FluentValue::from(line.map_or("none", |l| l.phone.as_str())),
    ));
    args.push((
        "hours",
        FluentValue::from(line.map_or("", |l| l.hours.as_str())),
    ));
    text(rule.message, locale, &args)
}

/// The words of a device push in `language`: only that something is waiting.
pub fn device_push(language: &str) -> Option<Text> {
    text("device-push", &locale_of(language), &[])
}

fn locale_of(language: &str) -> Locale {
    Locale {
        language: language.to_owned(),
        country: None,
    }
}

/// The longest `hours` of a clinic line, in characters.
pub const HOURS_MAX_CHARS: usize = 100;

/// Whether `phone` is an E.164 number as written for dialling from
/// anywhere: `+`, a country code not starting with 0, and 7 to 15 digits in
/// all, nothing else.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Characters that would break a line or reorder or hide text around them
/// where patients read it: controls, line and paragraph separators,
/// zero-width and bidirectional formatting marks.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks a clinic line an admin sets: `phone` in E.164 form, `hours` one
/// line of 1 to [`HOURS_MAX_CHARS`] characters (trimmed).
pub fn clinic_line(phone: &str, hours: &str) -> Result<ClinicLine, crate::Violations> {
    let mut violations = crate::Violations::new();
    if !is_e164(phone) {
        violations.add(
            "/phone",
            "must be an international (E.164) number: + then the country code and number, \
             digits only, e.g. +4930123456",
        );
    }
    let hours = hours.trim();
    if hours.is_empty() {
        violations.add("/hours", "must say when the line is answered");
    } else if hours.chars().count() > HOURS_MAX_CHARS {
        violations.add(
            "/hours",
            format!("must be at most {HOURS_MAX_CHARS} characters"),
        );
    } else if hours.chars().any(invisible) {
        violations.add(
            "/hours",
            "must be one line without control or invisible formatting characters",
        );
    }
    violations.into_result()?;
    Ok(ClinicLine {
        phone: phone.to_owned(),
        hours: hours.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::care_routes::{ALPHA2, ROUTES};
    use crate::messages::languages;
    use crate::red_flags::{CAUDA_EQUINA, INFECTION, MOTOR_DEFICIT, RULES, TIME_RULES};

    const SEVERITIES: [Severity; 3] = [Severity::Routine, Severity::Urgent, Severity::Emergency];

    fn locale(language: &str, country: Option<&str>) -> Locale {
        Locale {
            language: language.to_owned(),
            country: country.map(str::to_owned),
        }
    }

    fn line(phone: &str, hours: &str) -> ClinicLine {
        ClinicLine {
            phone: phone.to_owned(),
            hours: hours.to_owned(),
        }
    }

    /// Every run of digits in `text`.
    fn numbers(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|run| !run.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether `text` names `word` as a word of its own.
    fn names(text: &str, word: &str) -> bool {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|w| w == word)
    }

    /// What no advice may say: a number or service not of the patient's
    /// country (the clinic's own line, and its hours as the clinic wrote
    /// them, aside).
    fn check(
        rule: &Rule,
        severity: Severity,
        locale: &Locale,
        clinic: Option<&ClinicLine>,
    ) -> Result<(), String> {
        let advice = red_flag(rule, severity, locale, clinic)
            .ok_or_else(|| format!("{} does not render", rule.code))?;
        let route = locale.country.as_deref().and_then(route);
        let mut allowed: Vec<&str> = Vec::new();
        if let Some(route) = route {
            allowed.push(route.emergency);
            allowed.extend(route.urgent.number());
        }
        // Rules that are emergencies from the start have no place for it.
        let shows_line = clinic.is_some()
            && severity < Severity::Emergency
            && rule.severity < Severity::Emergency;
        let mut text = format!("{}\n{}", advice.title, advice.body);
        if let Some(clinic) = clinic {
            text = text.replace(&clinic.hours, "");
            if shows_line {
                allowed.push(clinic.phone.trim_start_matches('+'));
            }
        }
        let context = || format!("{} {severity:?} {locale:?}: {text}", rule.code);
        for number in numbers(&text) {
            if !allowed.contains(&number.as_str()) {
                return Err(format!("names {number}: {}", context()));
            }
        }
        // A variable's value never shows through as a word.
        for word in ["none", "gp-or-nhs-111", "doctor-or-urgent-care"] {
            if text.contains(word) {
                return Err(format!("shows {word}: {}", context()));
            }
        }
        let british = route.is_some_and(|r| r.urgent == UrgentRoute::GpOrNhs111);
        for service in ["NHS", "GP"] {
            if names(&text, service) && !british {
                return Err(format!("names {service}: {}", context()));
            }
        }
        if let Some(clinic) = clinic
            && text.contains(&clinic.phone) != shows_line
        {
            return Err(format!("clinic line shown wrongly: {}", context()));
        }
        Ok(())
    }

    #[test]
    fn no_advice_names_a_number_or_service_of_another_country() {
        let clinic = line("+4930123456", "Mon-Fri 8:00-18:00");
        let countries = ALPHA2.iter().map(|c| Some(*c)).chain([None, Some("XX")]);
        for country in countries {
            for language in languages() {
                let locale = locale(language, country);
                for rule in RULES.iter().chain(TIME_RULES) {
                    for severity in SEVERITIES {
                        for clinic in [None, Some(&clinic)] {
                            if let Err(problem) = check(rule, severity, &locale, clinic) {
                                panic!("{problem}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn emergency_advice_names_the_patients_own_emergency_number() {
        for language in languages() {
            for row in ROUTES {
                let locale = locale(language, Some(row.country));
                for rule in RULES.iter().filter(|r| r.severity == Severity::Emergency) {
                    let advice = red_flag(rule, rule.severity, &locale, None).unwrap();
                    assert!(
                        numbers(&advice.body).contains(&row.emergency.to_owned()),
                        "{language} {}: {}",
                        row.country,
                        advice.body
                    );
                }
            }
            // No country: no number at all.
            let unknown = red_flag(
                &CAUDA_EQUINA,
                Severity::Emergency,
                &locale(language, None),
                None,
            )
            .unwrap();
            assert!(numbers(&unknown.body).is_empty(), "{}", unknown.body);
        }
    }

    #[test]
    fn the_examples_of_the_issue_read_as_they_should() {
        let us_es = locale("es", Some("US"));
        let cauda = red_flag(&CAUDA_EQUINA, Severity::Emergency, &us_es, None).unwrap();
        assert!(cauda.body.contains("911"), "{}", cauda.body);
        assert_ne!(
            cauda,
            red_flag(
                &CAUDA_EQUINA,
                Severity::Emergency,
                &locale("en", Some("US")),
                None
            )
            .unwrap(),
            "Spanish is not English"
        );
        let de = red_flag(
            &CAUDA_EQUINA,
            Severity::Emergency,
            &locale("en", Some("DE")),
            None,
        )
        .unwrap();
        assert!(de.body.contains("call 112 now"), "{}", de.body);
        let gb = locale("en", Some("GB"));
        let cauda = red_flag(&CAUDA_EQUINA, Severity::Emergency, &gb, None).unwrap();
        assert!(cauda.body.contains("call 999 now"), "{}", cauda.body);
        let infection = red_flag(&INFECTION, Severity::Urgent, &gb, None).unwrap();
        assert!(
            infection.body.contains("Contact your GP or NHS 111 today"),
            "{}",
            infection.body
        );
        let nz = red_flag(
            &MOTOR_DEFICIT,
            Severity::Urgent,
            &locale("en", Some("NZ")),
            None,
        )
        .unwrap();
        assert!(
            nz.body.contains("your doctor or an urgent care clinic")
                && nz.body.contains("call 111"),
            "{}",
            nz.body
        );
        let nowhere = red_flag(
            &CAUDA_EQUINA,
            Severity::Emergency,
            &locale("en", None),
            None,
        )
        .unwrap();
        assert!(
            nowhere.body.contains("call your local emergency number"),
            "{}",
            nowhere.body
        );
        let clinic = line("+4930123456", "weekdays, 8 to 6");
        let with_line = red_flag(&INFECTION, Severity::Urgent, &gb, Some(&clinic)).unwrap();
        assert!(
            with_line.body.contains(
                "Contact your GP or NHS 111 today. You can also call your care team on \
                 +4930123456 (weekdays, 8 to 6). If you feel very unwell"
            ),
            "{}",
            with_line.body
        );
        let emergency = red_flag(&CAUDA_EQUINA, Severity::Emergency, &gb, Some(&clinic)).unwrap();
        assert!(
            !emergency.body.contains("+4930123456"),
            "not in an emergency"
        );
        // After what to do today, before what to do if it gets worse.
        let motor = red_flag(&MOTOR_DEFICIT, Severity::Urgent, &gb, Some(&clinic)).unwrap();
        let (line, call) = (
            motor.body.find("+4930123456").unwrap(),
            motor.body.find("call 999").unwrap(),
        );
        assert!(line < call, "{}", motor.body);
        for language in languages() {
            let locale = locale(language, Some("GB"));
            for rule in RULES.iter().chain(TIME_RULES) {
                for clinic in [None, Some(&clinic)] {
                    let body = red_flag(rule, rule.severity, &locale, clinic).unwrap().body;
                    assert!(
                        !body.contains("  ") && !body.contains(" .") && body.trim() == body,
                        "{language} {}: {body:?}",
                        rule.code
                    );
                }
            }
        }
    }

    #[test]
    fn every_text_the_code_names_renders_in_every_language() {
        for language in languages() {
            let locale = locale(language, None);
            assert!(text("stretch-reminder", &locale, &[]).is_some());
            let push = device_push(language).unwrap();
            assert!(!push.title.is_empty() && !push.body.is_empty());
        }
    }

    #[test]
    fn languages_and_phone_numbers_are_checked() {
        assert!(LANGUAGES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(LANGUAGES.len(), 184);
        for good in ["en", "es", "de", "zu"] {
            assert!(is_language(good), "{good}");
        }
        for bad in ["", "EN", "eng", "es-MX", "qq", "e"] {
            assert!(!is_language(bad), "{bad}");
        }
        for good in [
            "+4930123456",
            "+12025550123",
            "+6831234",
            "+999999999999999",
        ] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "",
            "4930123456",
            "+0301234567",
            "+49 30 123456",
            "+49-30-123456",
            "+123456",
            "+1234567890123456",
            "++4930123456",
            "+４９30123456",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
        assert!(
            clinic_line("+4930123456", "  Mon-Fri 8-18  ").is_ok_and(|l| l.hours == "Mon-Fri 8-18")
        );
        let both = clinic_line("030 123456", " ").unwrap_err();
        let pointers: Vec<&str> = both.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(pointers, ["/phone", "/hours"]);
        assert!(clinic_line("+4930123456", &"x".repeat(HOURS_MAX_CHARS + 1)).is_err());
        assert!(clinic_line("+4930123456", "8-18\nclosed Sunday").is_err());
        for hidden in ['\u{2028}', '\u{202E}', '\u{200B}', '\u{FEFF}', '\u{85}'] {
            assert!(
                clinic_line("+4930123456", &format!("8-18{hidden}closed")).is_err(),
                "{hidden:?}"
            );
        }
        assert!(clinic_line("+4930123456", "Lun–Vie 8:00–18:00, sáb. 9–13").is_ok());
    }

    proptest! {
        /// Any clinic line: its phone shows in urgent and routine advice
        /// only, and nothing else of another country is named.
        #[test]
        fn a_clinic_line_is_added_to_urgent_and_routine_advice_only(
            phone in "\\+[1-9][0-9]{6,14}",
            hours in "[A-Za-z][A-Za-z :,-]{0,39}",
            rule in prop::sample::select(RULES),
            severity in prop::sample::select(SEVERITIES.to_vec()),
            language in prop::sample::select(languages()),
            country in prop::option::of(prop::sample::select(ALPHA2)),
        ) {
            let clinic = clinic_line(&phone, &hours).unwrap();
            prop_assume!(!clinic.hours.is_empty());
            let locale = locale(language, country);
            prop_assert_eq!(check(&rule, severity, &locale, Some(&clinic)), Ok(()));
        }
    }
}
