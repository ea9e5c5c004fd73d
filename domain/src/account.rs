//! Account input, parsed rather than validated: an `Email` or a `Password` that exists is
//! acceptable. Shared with the UI so forms can show the same errors inline.

use serde::{Deserialize, Serialize};

/// Why account input was refused; the message is shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AccountError {
    /// Not an email address.
    #[error("enter a valid email address")]
    Email,
    /// Too short or too common.
    #[error("use at least 10 characters, not a common password")]
    WeakPassword,
    /// Empty or too long name.
    #[error("name must be 1 to 60 characters")]
    Name,
}

/// A syntactically valid email address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an email address.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let s = raw.trim().to_lowercase();
        let (local, domain) = s.split_once('@').ok_or(AccountError::Email)?;
        let ok = !local.is_empty()
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s.chars().any(char::is_whitespace);
        if ok {
            Ok(Email(s))
        } else {
            Err(AccountError::Email)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password strong enough to accept.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

const COMMON: [&str; 8] = [
    "password12",
    "1234567890",
    "qwertyuiop",
    "password123",
    "iloveyou12",
    "0123456789",
    "abcdefghij",
    "chargebay1",
];

impl Password {
    /// Parses a new password: at least 10 characters, more than 3 distinct, not a common one.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let distinct = raw.chars().collect::<std::collections::BTreeSet<_>>().len();
        if raw.chars().count() < 10
            || raw.len() > 200
            || distinct <= 3
            || COMMON.contains(&raw.to_lowercase().as_str())
        {
            return Err(AccountError::WeakPassword);
        }
        Ok(Password(raw.to_owned()))
    }

    /// The password.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name, 1–60 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name.
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 60 {
            return Err(AccountError::Name);
        }
        Ok(DisplayName(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@example",
            "ann@.com",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert_eq!(Email::parse(bad), Err(AccountError::Email), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("correct horse battery").is_ok());
        for weak in [
            "short",
            "aaaaaaaaaaaa",
            "ababababab",
            "Password12",
            "1234567890",
        ] {
            assert_eq!(
                Password::parse(weak),
                Err(AccountError::WeakPassword),
                "{weak}"
            );
        }
        assert!(!format!("{:?}", Password::parse("correct horse battery")).contains("horse"));
    }

    #[test]
    fn names() {
        assert!(DisplayName::parse("Ann").is_ok());
        assert_eq!(DisplayName::parse("  "), Err(AccountError::Name));
        assert_eq!(DisplayName::parse(&"x".repeat(61)), Err(AccountError::Name));
    }
}
