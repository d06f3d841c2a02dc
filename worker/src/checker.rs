//! Built-in output checkers: exact bytes, whitespace-separated tokens (with
//! optional ASCII case folding) and floating-point tokens with absolute and
//! relative tolerance.
//!
//! A checker compares the program's stdout with the test's expected output
//! and returns ACCEPTED or WRONG_ANSWER with a short message naming the
//! first difference. Positions in messages are 1-based.

use verdict_proto::v1::checker::Kind;
use verdict_proto::v1::{Checker, FloatChecker, TokensChecker, Verdict};

/// Maximum characters of a token or byte run quoted in a message. Longer
/// ones are cut and end with `...`.
const MAX_QUOTED_CHARS: usize = 40;

/// Result of one comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `Verdict::Accepted` or `Verdict::WrongAnswer`.
    pub verdict: Verdict,
    /// Explanation for the test result, such as
    /// `token 3: expected 42, got 41`.
    pub message: String,
}

impl Outcome {
    fn accepted(message: String) -> Outcome {
        Outcome {
            verdict: Verdict::Accepted,
            message,
        }
    }

    fn wrong(message: String) -> Outcome {
        Outcome {
            verdict: Verdict::WrongAnswer,
            message,
        }
    }
}

/// Returns the checker used when a request sets none: tokens, case-sensitive.
pub fn default_checker() -> Checker {
    Checker {
        kind: Some(Kind::Tokens(TokensChecker {
            case_sensitive: true,
        })),
    }
}

/// Compares `actual` (the program's stdout) with `expected` using
/// `checker`. A checker without a kind behaves like [`default_checker`].
pub fn check(checker: &Checker, expected: &[u8], actual: &[u8]) -> Outcome {
    match &checker.kind {
        Some(Kind::Exact(_)) => check_exact(expected, actual),
        Some(Kind::Tokens(tokens)) => check_tokens(tokens, expected, actual),
        Some(Kind::Float(float)) => check_float(float, expected, actual),
        None => check_tokens(
            &TokensChecker {
                case_sensitive: true,
            },
            expected,
            actual,
        ),
    }
}

fn check_exact(expected: &[u8], actual: &[u8]) -> Outcome {
    let Some(position) = expected.iter().zip(actual).position(|(e, a)| e != a) else {
        return compare_exact_lengths(expected, actual);
    };

    let (line, column) = line_and_column(expected, position);
    Outcome::wrong(format!(
        "byte {} (line {line}, column {column}): expected {}, got {}",
        position + 1,
        quote_byte(expected[position]),
        quote_byte(actual[position]),
    ))
}

/// Handles outputs where one is a prefix of the other.
fn compare_exact_lengths(expected: &[u8], actual: &[u8]) -> Outcome {
    if actual.len() < expected.len() {
        return Outcome::wrong(format!(
            "output ended early after {} bytes, expected {} bytes",
            actual.len(),
            expected.len()
        ));
    }
    if actual.len() > expected.len() {
        return Outcome::wrong(format!(
            "output has {} extra bytes after the expected {} bytes, starting with {}",
            actual.len() - expected.len(),
            expected.len(),
            quote(&actual[expected.len()..]),
        ));
    }
    Outcome::accepted(format!("output matches ({} bytes)", expected.len()))
}

fn check_tokens(options: &TokensChecker, expected: &[u8], actual: &[u8]) -> Outcome {
    compare_token_streams(expected, actual, |e, a| {
        if options.case_sensitive {
            e == a
        } else {
            e.eq_ignore_ascii_case(a)
        }
    })
}

fn check_float(options: &FloatChecker, expected: &[u8], actual: &[u8]) -> Outcome {
    // A negative or NaN tolerance has no meaning, so it counts as zero.
    let absolute = sanitize_tolerance(options.absolute_tolerance);
    let relative = sanitize_tolerance(options.relative_tolerance);

    compare_token_streams(expected, actual, |e, a| {
        match (parse_number(e), parse_number(a)) {
            (Some(e), Some(a)) if e.is_finite() => floats_match(e, a, absolute, relative),
            // Non-finite expected values and non-numeric tokens must match
            // as text, so `nan` only matches `nan`.
            _ => e == a,
        }
    })
}

fn sanitize_tolerance(tolerance: f64) -> f64 {
    if tolerance.is_finite() && tolerance > 0.0 {
        tolerance
    } else {
        0.0
    }
}

/// Returns whether a finite `expected` and the program's `actual` value are
/// within either tolerance. NaN and infinities in `actual` never match.
fn floats_match(expected: f64, actual: f64, absolute: f64, relative: f64) -> bool {
    if !actual.is_finite() {
        return false;
    }
    let difference = (expected - actual).abs();

    // Both decimal inputs were rounded to binary and the subtraction rounds
    // once more, so a difference that equals a tolerance in decimal can
    // exceed it by a few units in the last place. This slack absorbs that
    // rounding and nothing more.
    let rounding_slack = f64::EPSILON * (expected.abs() + actual.abs());

    difference <= absolute + rounding_slack
        || difference <= relative * expected.abs() + rounding_slack
}

fn parse_number(token: &[u8]) -> Option<f64> {
    std::str::from_utf8(token).ok()?.parse::<f64>().ok()
}

/// Walks both outputs token by token and reports the first pair that
/// `same` rejects, or a difference in token count.
fn compare_token_streams(
    expected: &[u8],
    actual: &[u8],
    same: impl Fn(&[u8], &[u8]) -> bool,
) -> Outcome {
    let mut expected_tokens = tokens(expected);
    let mut actual_tokens = tokens(actual);
    let mut matched = 0usize;

    loop {
        match (expected_tokens.next(), actual_tokens.next()) {
            (Some(e), Some(a)) => {
                if !same(e, a) {
                    return Outcome::wrong(format!(
                        "token {}: expected {}, got {}",
                        matched + 1,
                        quote(e),
                        quote(a)
                    ));
                }
                matched += 1;
            }
            (Some(_), None) => {
                let expected_count = matched + 1 + expected_tokens.count();
                return Outcome::wrong(format!(
                    "output ended early after {matched} tokens, expected {expected_count}"
                ));
            }
            (None, Some(a)) => {
                let actual_count = matched + 1 + actual_tokens.count();
                return Outcome::wrong(format!(
                    "output has {actual_count} tokens, expected {matched}; token {} is {}",
                    matched + 1,
                    quote(a)
                ));
            }
            (None, None) => {
                return Outcome::accepted(format!("output matches ({matched} tokens)"));
            }
        }
    }
}

/// Tokens separated by ASCII whitespace (space, tab, LF, VT, FF, CR).
fn tokens(output: &[u8]) -> impl Iterator<Item = &[u8]> {
    // `u8::is_ascii_whitespace` leaves out vertical tab, which C's
    // `isspace` and most judges count as whitespace.
    output
        .split(|byte| byte.is_ascii_whitespace() || *byte == 0x0b)
        .filter(|token| !token.is_empty())
}

fn line_and_column(output: &[u8], position: usize) -> (usize, usize) {
    let before = &output[..position];
    let line = 1 + before.iter().filter(|byte| **byte == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |newline| newline + 1);
    (line, position - line_start + 1)
}

/// Shows a token as written when it is short printable text, escaped
/// otherwise, and cut after [`MAX_QUOTED_CHARS`] characters.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let plain = text
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '"');
    let mut quoted: String = if plain {
        text.chars().take(MAX_QUOTED_CHARS).collect()
    } else {
        let escaped: String = text.escape_debug().take(MAX_QUOTED_CHARS).collect();
        format!("\"{escaped}\"")
    };
    if text.chars().count() > MAX_QUOTED_CHARS {
        quoted.push_str("...");
    }
    quoted
}

fn quote_byte(byte: u8) -> String {
    format!("'{}'", std::ascii::escape_default(byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict_proto::v1::ExactChecker;

    fn exact() -> Checker {
        Checker {
            kind: Some(Kind::Exact(ExactChecker {})),
        }
    }

    fn tokens_checker(case_sensitive: bool) -> Checker {
        Checker {
            kind: Some(Kind::Tokens(TokensChecker { case_sensitive })),
        }
    }

    fn float(absolute_tolerance: f64, relative_tolerance: f64) -> Checker {
        Checker {
            kind: Some(Kind::Float(FloatChecker {
                absolute_tolerance,
                relative_tolerance,
            })),
        }
    }

    #[track_caller]
    fn assert_verdict(checker: &Checker, expected: &str, actual: &str, verdict: Verdict) {
        let outcome = check(checker, expected.as_bytes(), actual.as_bytes());
        assert_eq!(
            outcome.verdict, verdict,
            "checker {checker:?} on expected {expected:?} and actual {actual:?} \
             gave {outcome:?}"
        );
    }

    #[track_caller]
    fn assert_message(checker: &Checker, expected: &str, actual: &str, message: &str) {
        let outcome = check(checker, expected.as_bytes(), actual.as_bytes());
        assert_eq!(
            outcome.message, message,
            "checker {checker:?} on expected {expected:?} and actual {actual:?}"
        );
    }

    #[test]
    fn exact_accepts_identical_bytes() {
        assert_verdict(&exact(), "1 2\n", "1 2\n", Verdict::Accepted);
    }

    #[test]
    fn exact_rejects_missing_trailing_newline() {
        assert_verdict(&exact(), "1 2\n", "1 2", Verdict::WrongAnswer);
        assert_message(
            &exact(),
            "1 2\n",
            "1 2",
            "output ended early after 3 bytes, expected 4 bytes",
        );
    }

    #[test]
    fn exact_rejects_extra_bytes() {
        assert_message(
            &exact(),
            "ok",
            "ok\n\n",
            "output has 2 extra bytes after the expected 2 bytes, starting with \"\\n\\n\"",
        );
    }

    #[test]
    fn exact_names_line_and_column() {
        assert_message(
            &exact(),
            "ab\ncd\n",
            "ab\nce\n",
            "byte 5 (line 2, column 2): expected 'd', got 'e'",
        );
    }

    #[test]
    fn exact_accepts_empty_outputs() {
        assert_verdict(&exact(), "", "", Verdict::Accepted);
    }

    #[test]
    fn tokens_ignore_whitespace_kind_and_amount() {
        let checker = tokens_checker(true);
        assert_verdict(&checker, "1 2\n3\n", "  1\t2\r\n3", Verdict::Accepted);
        assert_verdict(&checker, "1 2", "1\x0b2\x0c", Verdict::Accepted);
    }

    #[test]
    fn tokens_name_first_differing_token() {
        assert_message(
            &tokens_checker(true),
            "1 2 42 7",
            "1 2 41 7",
            "token 3: expected 42, got 41",
        );
    }

    #[test]
    fn tokens_report_early_end() {
        assert_message(
            &tokens_checker(true),
            "1 2 3 4 5",
            "1 2",
            "output ended early after 2 tokens, expected 5",
        );
    }

    #[test]
    fn tokens_report_extra_output() {
        assert_message(
            &tokens_checker(true),
            "1 2",
            "1 2 3 4",
            "output has 4 tokens, expected 2; token 3 is 3",
        );
    }

    #[test]
    fn tokens_accept_empty_against_whitespace() {
        assert_verdict(&tokens_checker(true), "", " \n\n", Verdict::Accepted);
    }

    #[test]
    fn tokens_case_sensitive_rejects_case_change() {
        assert_verdict(&tokens_checker(true), "YES", "yes", Verdict::WrongAnswer);
    }

    #[test]
    fn tokens_case_insensitive_folds_ascii() {
        assert_verdict(
            &tokens_checker(false),
            "YES No",
            "yes nO",
            Verdict::Accepted,
        );
    }

    #[test]
    fn tokens_case_insensitive_keeps_non_ascii() {
        // Only ASCII letters fold, because Unicode folding would accept
        // outputs that differ in characters the problem may define.
        assert_verdict(&tokens_checker(false), "É", "é", Verdict::WrongAnswer);
    }

    #[test]
    fn checker_without_kind_is_case_sensitive() {
        let checker = Checker { kind: None };
        assert_verdict(&checker, "Yes", "yes", Verdict::WrongAnswer);
        assert_verdict(&checker, "Yes\n", "Yes", Verdict::Accepted);
    }

    #[test]
    fn default_checker_is_case_sensitive_tokens() {
        assert_verdict(&default_checker(), "A  b", "A\nb\n", Verdict::Accepted);
        assert_verdict(&default_checker(), "A", "a", Verdict::WrongAnswer);
    }

    #[test]
    fn quoted_tokens_are_escaped_and_cut() {
        let long = "x".repeat(100);
        let outcome = check(&tokens_checker(true), b"a", long.as_bytes());
        let expected = format!("token 1: expected a, got {}...", "x".repeat(40));
        assert_eq!(outcome.message, expected, "long token in message");

        let outcome = check(&tokens_checker(true), b"a", b"\x01\xff");
        assert_eq!(
            outcome.message, "token 1: expected a, got \"\\u{1}\u{fffd}\"",
            "control byte and invalid UTF-8 in message"
        );
    }

    #[test]
    fn float_accepts_within_absolute_tolerance() {
        let checker = float(1e-6, 0.0);
        assert_verdict(&checker, "1.0000000", "1.0000009", Verdict::Accepted);
        assert_verdict(&checker, "1.0000000", "1.0000011", Verdict::WrongAnswer);
    }

    #[test]
    fn float_accepts_within_relative_tolerance() {
        let checker = float(0.0, 1e-3);
        assert_verdict(&checker, "1000000", "1000999", Verdict::Accepted);
        assert_verdict(&checker, "1000000", "1001001", Verdict::WrongAnswer);
    }

    #[test]
    fn float_accepts_either_tolerance() {
        // 0.1 off is outside 1% of 1.0 but inside the absolute 0.2.
        let checker = float(0.2, 0.01);
        assert_verdict(&checker, "1.0", "1.1", Verdict::Accepted);
        // 5 off is outside the absolute 0.2 but inside 1% of 1000.
        assert_verdict(&checker, "1000", "1005", Verdict::Accepted);
        assert_verdict(&checker, "1000", "1011", Verdict::WrongAnswer);
    }

    #[test]
    fn float_tolerance_boundary_is_inclusive() {
        // 0.4 - 0.3 is 0.10000000000000003 in binary arithmetic.
        assert_verdict(&float(0.1, 0.0), "0.3", "0.4", Verdict::Accepted);
        assert_verdict(&float(0.1, 0.0), "0.3", "0.4000001", Verdict::WrongAnswer);
    }

    #[test]
    fn float_zero_tolerance_compares_values() {
        let checker = float(0.0, 0.0);
        assert_verdict(&checker, "1.5", "1.50", Verdict::Accepted);
        assert_verdict(&checker, "1.5", "1.5000001", Verdict::WrongAnswer);
    }

    #[test]
    fn float_parses_exponents_and_signs() {
        let checker = float(1e-9, 0.0);
        assert_verdict(&checker, "0.00012", "1.2e-4", Verdict::Accepted);
        assert_verdict(&checker, "-3", "-3.000", Verdict::Accepted);
        assert_verdict(&checker, "-3", "3", Verdict::WrongAnswer);
    }

    #[test]
    fn float_rejects_nan_and_infinity() {
        let checker = float(1e9, 1e9);
        for candidate in ["nan", "NaN", "inf", "-inf", "infinity", "1e400"] {
            assert_verdict(&checker, "1.5", candidate, Verdict::WrongAnswer);
        }
    }

    #[test]
    fn float_non_finite_expected_matches_text() {
        let checker = float(1e-6, 1e-6);
        assert_verdict(&checker, "nan", "nan", Verdict::Accepted);
        assert_verdict(&checker, "inf", "1e400", Verdict::WrongAnswer);
    }

    #[test]
    fn float_compares_words_exactly() {
        let checker = float(1e-6, 0.0);
        assert_verdict(
            &checker,
            "case 1: 2.5",
            "case 1: 2.5000001",
            Verdict::Accepted,
        );
        assert_verdict(&checker, "case 1: 2.5", "Case 1: 2.5", Verdict::WrongAnswer);
        assert_verdict(&checker, "2.5", "two", Verdict::WrongAnswer);
    }

    #[test]
    fn float_negative_tolerance_counts_as_zero() {
        assert_verdict(&float(-1.0, f64::NAN), "2", "2.5", Verdict::WrongAnswer);
        assert_verdict(&float(-1.0, f64::NAN), "2", "2.0", Verdict::Accepted);
    }

    #[test]
    fn float_reports_first_differing_token() {
        assert_message(
            &float(1e-6, 0.0),
            "1.0 2.0 3.0",
            "1.0 2.1 3.0",
            "token 2: expected 2.0, got 2.1",
        );
    }

    #[test]
    fn float_reports_count_mismatch() {
        assert_message(
            &float(1e-6, 0.0),
            "1.0 2.0 3.0",
            "1.0",
            "output ended early after 1 tokens, expected 3",
        );
    }
}
