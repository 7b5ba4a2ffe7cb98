//! Field-level validation results, addressed by JSON pointer so the API can
//! say exactly which part of a body is wrong.

use std::fmt;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// RFC 6901 JSON pointer to the offending value, e.g. `/email`.
    pub pointer: String,
    /// A sentence for a person, never echoing the value itself.
    pub detail: String,
}

/// Every violation found in one input; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation at `pointer`.
    pub fn add(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Violation {
            pointer: pointer.into(),
            detail: detail.into(),
        });
    }

    /// Records the outcome of a check that returns its own detail.
    pub fn check<T>(&mut self, pointer: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(detail) => {
                self.add(pointer, detail);
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The recorded violations, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointers: Vec<&str> = self.0.iter().map(|v| v.pointer.as_str()).collect();
        write!(f, "invalid fields: {}", pointers.join(", "))
    }
}

impl std::error::Error for Violations {}
