//! Key names shared by both store backends, so that an id the embedded
//! store accepts is also a valid NATS key-value key.

use sha2::{Digest, Sha256};

/// Maximum length of a submission or worker id, in bytes.
const MAX_ID_LEN: usize = 128;

/// Returns true when `id` can be one token of a key: 1 to 128 ASCII
/// letters, digits, `-`, `_` or `=`. A `.` would split the key into
/// several NATS subject tokens, so it is not allowed.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
}

/// Checks an id before it becomes part of a key. `what` names the id in
/// the error ("submission" or "worker").
pub(crate) fn check_id(
    operation: &'static str,
    what: &str,
    id: &str,
) -> Result<(), crate::StoreError> {
    if is_valid_id(id) {
        return Ok(());
    }
    Err(crate::StoreError::Failed {
        operation,
        reason: format!(
            "invalid {what} id {id:?}: expected 1 to {MAX_ID_LEN} ASCII letters, digits, '-', '_' or '='"
        ),
    })
}

/// Checks the fields of a job that become part of its subject and message
/// id, and returns its language.
pub(crate) fn check_job(job: &verdict_proto::v1::Job) -> Result<&str, crate::QueueError> {
    let language = job
        .request
        .as_ref()
        .map(|request| request.language.as_str())
        .unwrap_or_default();
    let invalid = |what: &str, value: &str| {
        crate::QueueError::Failed {
        operation: "publish",
        reason: format!(
            "job has an invalid {what} {value:?}: expected 1 to {MAX_ID_LEN} ASCII letters, digits, '-', '_' or '='"
        ),
    }
    };
    if !is_valid_id(&job.submission_id) {
        return Err(invalid("submission id", &job.submission_id));
    }
    // The language is one token of the job's subject.
    if !is_valid_id(language) {
        return Err(invalid("language", language));
    }
    Ok(language)
}

pub(crate) fn submission_key(id: &str) -> String {
    format!("sub.{id}")
}

pub(crate) fn worker_key(id: &str) -> String {
    format!("worker.{id}")
}

/// Key of an idempotency key. Clients choose idempotency keys freely, so
/// the key stores their SHA-256 in hex, which is always a valid key.
pub(crate) fn idempotency_key(key: &str) -> String {
    format!("idem.{}", hex::encode(Sha256::digest(key.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_valid_id() {
        let id = "0190b6a4-6f0e-7cc1-9d6b-3c1a2b4d5e6f";
        assert!(is_valid_id(id), "expected {id:?} to be accepted");
    }

    #[test]
    fn dotted_or_empty_id_is_invalid() {
        for id in ["", "a.b", "a b", "a*", ">", "é"] {
            assert!(!is_valid_id(id), "expected {id:?} to be rejected");
        }
    }

    #[test]
    fn overlong_id_is_invalid() {
        let id = "a".repeat(MAX_ID_LEN + 1);
        assert!(
            !is_valid_id(&id),
            "expected a {}-byte id to be rejected",
            id.len()
        );
    }

    #[test]
    fn idempotency_key_is_hex_digest() {
        let key = idempotency_key("any key: with spaces.and dots");
        assert_eq!(key.len(), "idem.".len() + 64, "unexpected key {key:?}");
    }
}
