//! The catalogs of words dorsal sends to people (STYLE.md 19): Project
//! Fluent `.ftl` files, one folder per language under `domain/locales/`,
//! built into the binary. Code names a message id and its variables; the
//! text, its plurals and its number forms live in the catalog.
//!
//! A message is rendered in the language asked for when that language has
//! it, else in English ([`FALLBACK`]), message by message: a language that
//! is not translated yet, or a message a translator has not reached, still
//! reads in English rather than failing.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

pub use fluent_bundle::FluentValue;

/// The language every message exists in, and the one rendered when the
/// language asked for lacks a message.
pub const FALLBACK: &str = "en";

/// Every catalog file: its language (a primary language subtag, lower case)
/// and its source. A new file is one more row here (and its folder under
/// `domain/locales/`); a new language is a row per file it translates.
const RESOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/mail.ftl")),
    ("en", include_str!("../locales/en/patient.ftl")),
    ("es", include_str!("../locales/es/mail.ftl")),
    ("es", include_str!("../locales/es/patient.ftl")),
];

/// The languages that have a catalog, [`FALLBACK`] first.
pub fn languages() -> Vec<&'static str> {
    let mut languages: Vec<&'static str> = Vec::new();
    for (language, _) in RESOURCES {
        if !languages.contains(language) {
            languages.push(language);
        }
    }
    languages
}

/// One language's messages, from all its files.
struct Catalog {
    language: &'static str,
    bundle: FluentBundle<FluentResource>,
}

/// Every language's catalog.
struct Catalogs(Vec<Catalog>);

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| build(RESOURCES).0);

/// The catalogs of `resources`, and what was wrong with their sources (a
/// unit test holds the list empty; a broken entry is left out, never a
/// panic).
fn build(resources: &[(&'static str, &'static str)]) -> (Catalogs, Vec<String>) {
    let mut problems = Vec::new();
    let mut languages: Vec<&'static str> = Vec::new();
    for (language, _) in resources {
        if !languages.contains(language) {
            languages.push(language);
        }
    }
    let catalogs = languages
        .into_iter()
        .map(|language| {
            let locale = language.parse::<LanguageIdentifier>().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![locale]);
            // Plain text (email, push, the app's notifications): Unicode
            // isolation marks around variables would show up as stray
            // characters in some mail clients and lock screens.
            bundle.set_use_isolating(false);
            for (_, source) in resources.iter().filter(|(l, _)| *l == language) {
                let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(
                    |(partial, errors)| {
                        problems.extend(errors.iter().map(|e| format!("{language}: {e:?}")));
                        partial
                    },
                );
                if let Err(errors) = bundle.add_resource(resource) {
                    problems.extend(errors.iter().map(|e| format!("{language}: {e:?}")));
                }
            }
            Catalog { language, bundle }
        })
        .collect();
    (Catalogs(catalogs), problems)
}

/// The primary language subtag of a tag such as `es-MX` or `pt_BR`, lower
/// case.
fn primary(language: &str) -> String {
    language
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Message `id` in `language` (a language tag; only its primary subtag
/// counts) with `args`, falling back to English when the language or the
/// message is missing there, or does not render cleanly. `None` only when
/// no catalog has the message.
pub fn render(language: &str, id: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
    CATALOGS.render(language, id, args)
}

impl Catalogs {
    /// See [`render`].
    fn render(&self, language: &str, id: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let wanted = primary(language);
        let order = self
            .0
            .iter()
            .filter(|c| c.language == wanted)
            .chain(self.0.iter().filter(|c| c.language == FALLBACK));
        for catalog in order {
            let Some(pattern) = catalog.bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = catalog
                .bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors);
            if errors.is_empty() {
                return Some(text.into_owned());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every message and term of each language, with the variables, the
    /// messages and the select keys (other than plural categories) it uses.
    fn messages() -> BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>> {
        let mut out: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (language, source) in RESOURCES {
            let resource = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(_, errors)| panic!("{language}: {errors:?}"));
            for entry in resource.entries() {
                // Terms too: a message reads its care-route terms, so a
                // language must have them with the same variables.
                let (id, value) = match entry {
                    ast::Entry::Message(message) => {
                        (message.id.name.to_owned(), message.value.as_ref())
                    }
                    ast::Entry::Term(term) => (format!("-{}", term.id.name), Some(&term.value)),
                    _ => continue,
                };
                let mut variables = BTreeSet::new();
                if let Some(pattern) = value {
                    pattern_variables(pattern, &mut variables);
                }
                let previous = out
                    .entry(language)
                    .or_default()
                    .insert(id.clone(), variables);
                assert!(previous.is_none(), "{language}: {id} twice");
            }
        }
        out
    }

    fn pattern_variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    /// CLDR's plural categories, which each language uses its own of.
    const PLURAL_CATEGORIES: &[&str] = &["zero", "one", "two", "few", "many", "other"];

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    // A key that is a value the code passes (`none`,
                    // `gp-or-nhs-111`) must be in every language, or the
                    // value would show through; plural categories differ
                    // between languages and are left to each.
                    if let ast::VariantKey::Identifier { name } = variant.key
                        && !PLURAL_CATEGORIES.contains(&name)
                    {
                        out.insert(format!("[{name}]"));
                    }
                    pattern_variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out);
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    inline_variables(argument, out);
                }
                for argument in &arguments.named {
                    inline_variables(&argument.value, out);
                }
            }
            ast::InlineExpression::TermReference { arguments, .. } => {
                if let Some(arguments) = arguments {
                    for argument in &arguments.positional {
                        inline_variables(argument, out);
                    }
                    for argument in &arguments.named {
                        inline_variables(&argument.value, out);
                    }
                }
            }
            // A message another includes counts as one of its variables:
            // a translation that leaves out `{ call-emergency }` would leave
            // out the patient's emergency number.
            ast::InlineExpression::MessageReference { id, .. } => {
                out.insert(format!("{{ {} }}", id.name));
            }
            ast::InlineExpression::StringLiteral { .. }
            | ast::InlineExpression::NumberLiteral { .. } => {}
        }
    }

    fn reset(language: &str, minutes: u32) -> String {
        let args = [
            ("code", FluentValue::from("K7Q2-9XPM")),
            ("minutes", FluentValue::from(minutes)),
        ];
        render(language, "password-reset-body", &args).unwrap()
    }

    #[test]
    fn every_catalog_parses_without_problems() {
        assert_eq!(build(RESOURCES).1, Vec::<String>::new());
        assert_eq!(languages(), ["en", "es"]);
    }

    #[test]
    fn every_english_message_exists_in_every_language_with_the_same_variables() {
        let all = messages();
        let english = &all[FALLBACK];
        assert!(!english.is_empty());
        for (language, messages) in &all {
            for (id, variables) in english {
                assert_eq!(
                    messages.get(id),
                    Some(variables),
                    "{language}: {id} is missing or uses other variables"
                );
            }
            for id in messages.keys() {
                assert!(
                    english.contains_key(id),
                    "{language}: {id} is not in English"
                );
            }
        }
    }

    #[test]
    fn the_reset_email_renders_in_english_and_spanish_with_plurals() {
        let en = reset("en", 30);
        assert!(en.contains("Your code is: K7Q2-9XPM"), "{en}");
        assert!(
            en.contains("valid for 30 minutes and can be used once"),
            "{en}"
        );
        assert!(
            en.contains("If you did not ask for this, ignore this email"),
            "{en}"
        );
        assert!(reset("en", 1).contains("valid for 1 minute and"));

        let es = reset("es-ES", 30);
        assert!(es.contains("Su código es: K7Q2-9XPM"), "{es}");
        assert!(es.contains("válido durante 30 minutos y solo"), "{es}");
        assert!(es.contains("ignore este correo"), "{es}");
        assert!(reset("es", 1).contains("válido durante 1 minuto y"));
        assert_eq!(
            render("es", "password-reset-subject", &[]).unwrap(),
            "Su código para restablecer la contraseña de dorsal"
        );
    }

    #[test]
    fn rendered_text_has_no_isolation_marks_and_keeps_its_paragraphs() {
        for language in languages() {
            let text = reset(language, 30);
            assert!(
                !text.contains(['\u{2068}', '\u{2069}']),
                "{language}: {text:?}"
            );
            assert_eq!(text.matches("\n\n").count(), 3, "{language}: {text:?}");
            assert!(!text.starts_with(char::is_whitespace), "{language}");
        }
    }

    #[test]
    fn an_unknown_language_or_a_missing_message_falls_back_to_english() {
        assert_eq!(reset("fr", 30), reset("en", 30));
        assert_eq!(reset("", 30), reset("en", 30));
        assert_eq!(reset("EN_gb", 30), reset("en", 30));
        assert_eq!(render("es", "no-such-message", &[]), None);
    }

    #[test]
    fn a_message_a_language_lacks_is_rendered_in_english_instead() {
        // Spanish here lacks `second` and has `third` with a fault; both
        // read in English, and `first` in Spanish.
        let (catalogs, problems) = build(&[
            ("en", "first = First\nsecond = Second\nthird = Third { $n }"),
            ("es", "first = Primero\nthird = Tercero { $missing }"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        let n = [("n", FluentValue::from(3))];
        assert_eq!(
            catalogs.render("es", "first", &[]).as_deref(),
            Some("Primero")
        );
        assert_eq!(
            catalogs.render("es", "second", &[]).as_deref(),
            Some("Second")
        );
        assert_eq!(
            catalogs.render("es-MX", "third", &n).as_deref(),
            Some("Third 3")
        );
        assert_eq!(catalogs.render("es", "fourth", &n), None);
    }

    #[test]
    fn a_message_missing_a_variable_does_not_render_with_a_hole() {
        assert_eq!(render("en", "password-reset-body", &[]), None);
    }
}
