//! Care routes by country (SPEC §12): the number that brings an ambulance in a medical
//! emergency, the usual route for urgent care that is not an emergency, and the source each
//! was checked against. Only numbers and route ids live here; the words patients read are in
//! the message catalogs. Also the list of assigned ISO 3166-1 alpha-2 codes, which
//! `profiles.country` is validated against.
//!
//! Sources were read on 2026-12-03 in stored copies of the pages named in each row (no live
//! fetch was possible); a row's `checked` is that date. The judgement calls (AR, BR, CL, and
//! the countries where 112 first reaches the police) are in `docs/decisions.md`.

use jiff::civil::{Date, date};

/// Where a patient should go for urgent care that is not an emergency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrgentRoute {
    /// Their GP, or NHS 111 (by phone or online). Great Britain only.
    GpOrNhs111,
    /// Their own doctor or an urgent care clinic; names no service and no number.
    DoctorOrUrgentCare,
}

impl UrgentRoute {
    /// A stable id for the route, for catalogs to select their wording by.
    pub const fn id(self) -> &'static str {
        match self {
            Self::GpOrNhs111 => "gp-or-nhs-111",
            Self::DoctorOrUrgentCare => "doctor-or-urgent-care",
        }
    }

    /// The phone number the route names, if it names one.
    pub const fn number(self) -> Option<&'static str> {
        match self {
            Self::GpOrNhs111 => Some("111"),
            Self::DoctorOrUrgentCare => None,
        }
    }
}

/// One country's care routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareRoute {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: &'static str,
    /// The number to call for an ambulance in a medical emergency, digits only.
    pub emergency: &'static str,
    /// The usual route for urgent care that is not an emergency.
    pub urgent: UrgentRoute,
    /// The official source the emergency number and route were checked against.
    pub source: &'static str,
    /// When the row was last checked against its source.
    pub checked: Date,
}

/// The date the rows below were checked.
const CHECKED: Date = date(2026, 12, 3);

/// EU law makes 112 reach the emergency services in every member state, answered like the
/// national numbers; several states keep a national ambulance number beside it.
const EU_112: &str = "Directive (EU) 2018/1972, art. 109, \
     https://eur-lex.europa.eu/eli/dir/2018/1972/oj; \
     European Commission, https://ec.europa.eu/digital-single-market/eu-actions-112";

/// A row that names 112 on the strength of EU law.
const fn eu(country: &'static str) -> CareRoute {
    CareRoute {
        country,
        emergency: "112",
        urgent: UrgentRoute::DoctorOrUrgentCare,
        source: EU_112,
        checked: CHECKED,
    }
}

/// A row whose urgent route is the patient's own doctor or an urgent care clinic.
const fn row(country: &'static str, emergency: &'static str, source: &'static str) -> CareRoute {
    CareRoute {
        country,
        emergency,
        urgent: UrgentRoute::DoctorOrUrgentCare,
        source,
        checked: CHECKED,
    }
}

/// Every country with known care routes, sorted by country code.
pub static ROUTES: &[CareRoute] = &[
    // 107 is the medical-emergency line the health ministries run (SAME in Buenos Aires
    // city, provincial 107 services in e.g. Tucumán and La Rioja). 911 also reaches an
    // ambulance where a province has joined it to its 911 centre (Buenos Aires province),
    // but in Buenos Aires city 911 is the police, which passes health calls on.
    row(
        "AR",
        "107",
        "Ministerio de Salud Pública de Tucumán, \
         https://msptucuman.gov.ar/el-ministro-de-salud-visito-el-call-center-del-107; \
         Provincia de Buenos Aires 911, http://emergencias911.mseg.gba.gov.ar/preguntas",
    ),
    eu("AT"),
    row(
        "AU",
        "000",
        "Triple Zero, https://www.triplezero.gov.au; \
         https://cfs.sa.gov.au/warnings-and-incidents/call-triple-zero-in-an-emergency/",
    ),
    eu("BE"),
    eu("BG"),
    // SAMU 192, the Ministry of Health's mobile emergency service; 192 is reserved for it
    // by Decree 5.055/2004. 190 is the police, 193 the fire brigade.
    row(
        "BR",
        "192",
        "Ministério da Saúde, \
         http://www.saude.gov.br/saude-de-a-z/servico-de-atendimento-movel-de-urgencia-samu-192",
    ),
    row(
        "CA",
        "911",
        "Central Ambulance Communication Centre (Ontario), \
         https://sah.on.ca/programs-services/central-ambulance-communication-centre-cacc/calling-an-ambulance/; \
         CIUSSS de l'Estrie (Québec), \
         https://www.santeestrie.qc.ca/en/care-services/general-services/emergency/urgence-911",
    ),
    // 112 as SPEC §12 names it. ch.ch says 112 reaches the police emergency centre, which
    // connects the caller; 144 is the ambulance number Swiss sources give for medical
    // emergencies.
    row(
        "CH",
        "112",
        "Swiss Confederation, https://ch.ch/en/road-accident-what-should-i-do",
    ),
    // SAMU 131, the public health service's ambulance line; 132 (fire) and 133 (police)
    // pass medical calls on to it.
    row(
        "CL",
        "131",
        "SAMU Región del Maule and SAMU Servicio de Salud Viña del Mar-Quillota, as reported \
         in https://elmauleinforma.cl/?p=67393 and https://radiofestival.cl/?p=122804 \
         (no Ministerio de Salud page could be read here)",
    ),
    // 123 is the national single emergency line; ambulances are requested through it.
    row(
        "CO",
        "123",
        "Alcaldía de Bogotá, \
         https://bogota.gov.co/mi-ciudad/salud/como-solicitar-un-servicio-de-ambulancia",
    ),
    eu("CY"),
    eu("CZ"),
    eu("DE"),
    eu("DK"),
    eu("EE"),
    eu("ES"),
    eu("FI"),
    eu("FR"),
    // The only row with NHS 111: 999 for life-threatening emergencies, 111 when help is
    // needed fast but it is not a 999 emergency, the GP for less urgent needs. GB is the
    // whole United Kingdom: in Scotland 111 reaches NHS 24, and the pages read here show
    // Northern Ireland with GP Out-of-Hours (gpoutofhours.hscni.net), not NHS 111.
    CareRoute {
        country: "GB",
        emergency: "999",
        urgent: UrgentRoute::GpOrNhs111,
        source: "West Midlands Ambulance Service NHS, https://wmas.nhs.uk/999-or-111/",
        checked: CHECKED,
    },
    eu("GR"),
    eu("HR"),
    eu("HU"),
    eu("IE"),
    // 112 as SPEC §12 names it: the Ministry of Home Affairs' Emergency Response Support
    // System joins police, fire and health behind 112. Many states still run 108 for an
    // ambulance.
    row(
        "IN",
        "112",
        "Government of India, Emergency Response Support System, \
         https://en.vikaspedia.in/social-welfare/women-and-child-development/emergency-response-support-system",
    ),
    row(
        "IS",
        "112",
        "Neyðarlínan 112 Iceland, https://112.is/en/samtal-vid-1-1-2",
    ),
    eu("IT"),
    // 119 reaches the fire service, which runs the ambulances; 110 is the police. The guide
    // was read in a mirrored copy of the agency's PDF.
    row(
        "JP",
        "119",
        "Fire and Disaster Management Agency, Guide for Ambulance Services (English), \
         https://www.fdma.go.jp/",
    ),
    // 119 reaches the National Fire Agency, which runs the ambulances; 112 in Korea is the
    // police.
    row("KR", "119", "National Fire Agency, http://www.119.go.kr"),
    // EEA: 112, as SPEC §12 names it for NO and CH. The government names 144 as the
    // ambulance number (Sanitätsnotruf); 112 is answered by the Landespolizei's emergency
    // centre, as 117 and 118 are.
    row(
        "LI",
        "112",
        "Amt für Zivilschutz und Landesversorgung, Europäischer Notruf 112, \
         https://presseportal.ch/de/pm/100000148/100009015",
    ),
    eu("LT"),
    eu("LU"),
    eu("LV"),
    eu("MT"),
    // 911 replaced 060, 065, 066 and the other emergency numbers nationally (IFT, DOF of
    // 2 December 2015).
    row(
        "MX",
        "911",
        "Gobierno de México, https://www.gob.mx/policiafederal/articulos/088-911-responder-ante-cualquier-llamado",
    ),
    eu("NL"),
    // EEA: 112 as SPEC §12 names it. In Norway 112 is the police, who connect medical calls;
    // helsenorge.no tells patients to call 113, the medical emergency number.
    row(
        "NO",
        "112",
        "EEA: Directive (EU) 2018/1972, art. 109; \
         medical emergency 113: https://www.helsenorge.no/nn/forstehjelp/ring-113/",
    ),
    // 111 is New Zealand's emergency number (police, fire, ambulance), not a helpline.
    row(
        "NZ",
        "111",
        "Manatū Hauora, \
         https://www.health.govt.nz/new-zealand-health-system/key-health-sector-organisations-and-people/national-ambulance-sector-office-naso/new-zealands-ambulance-services",
    ),
    eu("PL"),
    eu("PT"),
    eu("RO"),
    eu("SE"),
    eu("SI"),
    eu("SK"),
    // Only the 911.gov guidance as quoted by a municipal FAQ could be read here.
    row(
        "US",
        "911",
        "911.gov (National 911 Program), https://www.911.gov/",
    ),
    // 112 as SPEC §12 names it: the national emergency number under the Electronic
    // Communications Act 2005, ss. 76-79, reachable from every mobile phone. 10177 is the
    // older ambulance and fire number; no government page could be read here.
    row(
        "ZA",
        "112",
        "Electronic Communications Act 36 of 2005, ss. 76-79; \
         https://trekmedics.org/database/south_africa/",
    ),
];

/// The care routes of a country, by its ISO 3166-1 alpha-2 code in either case; `None` for a
/// country not in the table, which gets advice that names no number or service.
pub fn route(country: &str) -> Option<&'static CareRoute> {
    let code = upper_alpha2(country)?;
    let at = ROUTES
        .binary_search_by(|entry| entry.country.as_bytes().cmp(&code[..]))
        .ok()?;
    ROUTES.get(at)
}

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code, written as ISO writes it: two
/// upper-case letters.
pub fn is_country(code: &str) -> bool {
    ALPHA2.binary_search(&code).is_ok()
}

/// Two ASCII letters, upper-cased.
fn upper_alpha2(code: &str) -> Option<[u8; 2]> {
    match code.as_bytes() {
        &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

/// Every officially assigned ISO 3166-1 alpha-2 code, sorted (249; from the Debian
/// `iso-codes` 4.15.0 copy of ISO 3166-1). User-assigned and reserved codes such as `XK`,
/// `EU` and `UK` are not in it.
pub const ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The 27 EU member states, the other EEA states, and the rest SPEC §12 and issue 17 name.
    const REQUIRED: &[&str] = &[
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
        "GB", "CH", "US", "CA", "MX", "AU", "NZ", "IN", "BR", "AR", "CO", "CL", "ZA", "JP", "KR",
    ];

    #[test]
    fn every_required_country_has_a_route() {
        for country in REQUIRED {
            assert!(route(country).is_some(), "{country} has no care route");
        }
        assert_eq!(REQUIRED.len(), 45);
    }

    #[test]
    fn emergency_numbers_are_the_ones_checked() {
        let expected = [
            ("US", "911"),
            ("CA", "911"),
            ("MX", "911"),
            ("GB", "999"),
            ("AU", "000"),
            ("NZ", "111"),
            ("DE", "112"),
            ("FR", "112"),
            ("ES", "112"),
            ("IS", "112"),
            ("LI", "112"),
            ("NO", "112"),
            ("CH", "112"),
            ("IN", "112"),
            ("ZA", "112"),
            ("BR", "192"),
            ("AR", "107"),
            ("CO", "123"),
            ("CL", "131"),
            ("JP", "119"),
            ("KR", "119"),
        ];
        for (country, number) in expected {
            assert_eq!(
                route(country).map(|r| r.emergency),
                Some(number),
                "{country}"
            );
        }
    }

    #[test]
    fn every_eu_member_state_is_told_112() {
        for country in &REQUIRED[..27] {
            assert_eq!(
                route(country).map(|r| r.emergency),
                Some("112"),
                "{country}"
            );
        }
    }

    #[test]
    fn emergency_numbers_are_three_or_four_digits() {
        for row in ROUTES {
            let number = row.emergency;
            assert!(
                (3..=4).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit()),
                "{}: {number:?}",
                row.country
            );
        }
    }

    #[test]
    fn every_row_names_its_source_and_when_it_was_checked() {
        for row in ROUTES {
            assert!(
                row.source.contains("http"),
                "{} names no source",
                row.country
            );
            assert!(
                row.checked >= date(2026, 1, 1) && row.checked <= CHECKED,
                "{}",
                row.country
            );
        }
    }

    #[test]
    fn only_great_britain_is_sent_to_a_gp_or_nhs_111() {
        for row in ROUTES {
            let nhs = row.urgent == UrgentRoute::GpOrNhs111;
            assert_eq!(nhs, row.country == "GB", "{}", row.country);
        }
        assert_eq!(route("GB").map(|r| r.urgent.number()), Some(Some("111")));
    }

    #[test]
    fn no_urgent_route_but_great_britains_names_a_number() {
        for row in ROUTES.iter().filter(|row| row.country != "GB") {
            assert_eq!(row.urgent.number(), None, "{}", row.country);
        }
    }

    #[test]
    fn new_zealands_111_is_its_emergency_number() {
        let nz = route("NZ").unwrap();
        assert_eq!(nz.emergency, "111");
        assert_eq!(nz.urgent, UrgentRoute::DoctorOrUrgentCare);
    }

    #[test]
    fn route_ids_are_distinct() {
        assert_ne!(
            UrgentRoute::GpOrNhs111.id(),
            UrgentRoute::DoctorOrUrgentCare.id()
        );
    }

    #[test]
    fn the_table_is_sorted_by_country_without_duplicates() {
        for pair in ROUTES.windows(2) {
            assert!(
                pair[0].country < pair[1].country,
                "{} then {}",
                pair[0].country,
                pair[1].country
            );
        }
    }

    #[test]
    fn every_country_in_the_table_is_an_iso_code() {
        for row in ROUTES {
            assert!(is_country(row.country), "{}", row.country);
        }
    }

    #[test]
    fn the_iso_list_is_sorted_and_has_every_assigned_code() {
        assert_eq!(ALPHA2.len(), 249);
        for pair in ALPHA2.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
        for code in ALPHA2 {
            assert!(
                code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
        }
    }

    #[test]
    fn lookup_ignores_case_but_nothing_else() {
        for code in ["DE", "de", "De", "dE"] {
            assert_eq!(route(code).map(|r| r.country), Some("DE"));
        }
        for code in ["", "D", "DEU", " DE", "DE ", "D1", "ÄE", "XX", "AQ"] {
            assert_eq!(route(code), None, "{code:?}");
        }
    }

    #[test]
    fn only_upper_case_assigned_codes_are_countries() {
        for code in ["GB", "DE", "NZ", "AQ", "ZW"] {
            assert!(is_country(code), "{code}");
        }
        for code in ["gb", "UK", "EU", "XK", "ZZ", "", "G", "GBR"] {
            assert!(!is_country(code), "{code:?}");
        }
    }

    proptest! {
        #[test]
        fn a_route_is_found_exactly_for_listed_codes_in_any_case(code in "[A-Za-z]{2}") {
            let upper = code.to_ascii_uppercase();
            let listed = ROUTES.iter().any(|row| row.country == upper);
            prop_assert_eq!(route(&code).map(|r| r.country), listed.then_some(upper.as_str()));
        }

        #[test]
        fn anything_but_two_letters_finds_no_route(code in "\\PC{0,4}") {
            prop_assume!(!(code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())));
            prop_assert_eq!(route(&code), None);
            prop_assert!(!is_country(&code));
        }
    }
}
