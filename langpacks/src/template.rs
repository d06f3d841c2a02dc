//! Argument templates of compile and run steps: parsing, validation and
//! expansion of `{main}`, `{stem}`, `{sources}` and `{memory_mb}`.

/// A placeholder that may appear in a step's argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    /// The main source file name.
    Main,
    /// The main source file name without its last extension.
    Stem,
    /// One argument per source file, valid only as a whole argument.
    Sources,
    /// The run's memory limit in MiB, valid only in run steps.
    MemoryMb,
}

impl Placeholder {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "main" => Some(Self::Main),
            "stem" => Some(Self::Stem),
            "sources" => Some(Self::Sources),
            "memory_mb" => Some(Self::MemoryMb),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    Literal(&'a str),
    Placeholder(Placeholder),
}

/// Splits one argument into literal text and placeholders. Braces are
/// reserved: a `{` or `}` that is not part of a known placeholder is an
/// error, so a typo such as `{mian}` cannot reach a compiler as text.
fn parse_arg(arg: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut segments = Vec::new();
    let mut rest = arg;
    while !rest.is_empty() {
        let Some(open) = rest.find(['{', '}']) else {
            segments.push(Segment::Literal(rest));
            break;
        };
        if rest[open..].starts_with('}') {
            return Err(format!("unmatched `}}` in argument `{arg}`"));
        }
        if open > 0 {
            segments.push(Segment::Literal(&rest[..open]));
        }

        let after_open = &rest[open + 1..];
        let Some(close) = after_open.find('}') else {
            return Err(format!("unmatched `{{` in argument `{arg}`"));
        };
        let name = &after_open[..close];
        let placeholder = Placeholder::from_name(name).ok_or_else(|| {
            format!(
                "unknown placeholder `{{{name}}}` in argument `{arg}` \
                 (expected one of {{main}}, {{stem}}, {{sources}}, {{memory_mb}})"
            )
        })?;
        segments.push(Segment::Placeholder(placeholder));
        rest = &after_open[close + 1..];
    }
    Ok(segments)
}

/// Kind of step an argv belongs to, because `{memory_mb}` only has a
/// value in runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepKind {
    Compile,
    Run,
}

/// Checks every argument of a step's argv. Returns the reason when the
/// argv is empty, has an unknown placeholder or unbalanced braces, uses
/// `{sources}` inside a larger argument, or uses `{memory_mb}` in a
/// compile step.
pub(crate) fn validate_argv(argv: &[String], kind: StepKind) -> Result<(), String> {
    if argv.is_empty() {
        return Err("argv is empty".to_owned());
    }
    if argv[0].trim().is_empty() {
        return Err("argv[0] is empty".to_owned());
    }

    for arg in argv {
        let segments = parse_arg(arg)?;
        let has_sources = segments.contains(&Segment::Placeholder(Placeholder::Sources));
        if has_sources && segments.len() > 1 {
            return Err(format!(
                "`{{sources}}` must be a whole argument because it expands to several, \
                 but found it in `{arg}`"
            ));
        }
        let has_memory = segments.contains(&Segment::Placeholder(Placeholder::MemoryMb));
        if has_memory && kind == StepKind::Compile {
            return Err(format!(
                "`{{memory_mb}}` is only defined in run steps, but found it in compile argument `{arg}`"
            ));
        }
    }
    Ok(())
}

/// Values substituted into a template.
pub(crate) struct Values<'a> {
    pub(crate) sources: &'a [String],
    /// `None` in compile steps.
    pub(crate) memory_mb: Option<u64>,
}

impl Values<'_> {
    fn main(&self) -> &str {
        self.sources.first().map_or("", String::as_str)
    }
}

/// Returns the file name without its last extension: `Main.java` gives `Main`,
/// `a.b.py` gives `a.b`, and a name without a dot is returned unchanged.
/// Only the part after the last `/` counts, so `src/Main.java` gives `Main`.
pub(crate) fn stem(file_name: &str) -> &str {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    match base.rfind('.') {
        Some(dot) if dot > 0 => &base[..dot],
        _ => base,
    }
}

/// Expands a validated argv. An argument that does not parse, which
/// validation rules out for embedded manifests, is passed through as
/// written rather than dropped.
pub(crate) fn expand(argv: &[String], values: &Values<'_>) -> Vec<String> {
    let mut expanded = Vec::with_capacity(argv.len() + values.sources.len());
    for arg in argv {
        let Ok(segments) = parse_arg(arg) else {
            expanded.push(arg.clone());
            continue;
        };

        if segments == [Segment::Placeholder(Placeholder::Sources)] {
            expanded.extend(values.sources.iter().cloned());
            continue;
        }

        let mut text = String::with_capacity(arg.len());
        for segment in segments {
            match segment {
                Segment::Literal(literal) => text.push_str(literal),
                Segment::Placeholder(Placeholder::Main) => text.push_str(values.main()),
                Segment::Placeholder(Placeholder::Stem) => text.push_str(stem(values.main())),
                Segment::Placeholder(Placeholder::Sources) => {
                    text.push_str(&values.sources.join(" "))
                }
                Segment::Placeholder(Placeholder::MemoryMb) => match values.memory_mb {
                    Some(memory_mb) => text.push_str(&memory_mb.to_string()),
                    None => text.push_str("{memory_mb}"),
                },
            }
        }
        expanded.push(text);
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn sources_expand_to_separate_arguments() {
        let argv = strings(&["gcc", "-o", "main", "{sources}", "-lm"]);
        let sources = strings(&["main.c", "util.c"]);
        let values = Values {
            sources: &sources,
            memory_mb: None,
        };

        let expanded = expand(&argv, &values);

        assert_eq!(
            expanded,
            strings(&["gcc", "-o", "main", "main.c", "util.c", "-lm"]),
            "expected one argument per source file"
        );
    }

    #[test]
    fn placeholders_expand_inside_arguments() {
        let argv = strings(&[
            "java",
            "-Xmx{memory_mb}m",
            "-cp",
            ".",
            "{stem}",
            "--file={main}",
        ]);
        let sources = strings(&["Main.java", "Helper.java"]);
        let values = Values {
            sources: &sources,
            memory_mb: Some(256),
        };

        let expanded = expand(&argv, &values);

        assert_eq!(
            expanded,
            strings(&["java", "-Xmx256m", "-cp", ".", "Main", "--file=Main.java"]),
            "expected {{memory_mb}}, {{stem}} and {{main}} replaced in place"
        );
    }

    #[test]
    fn stem_drops_only_last_extension() {
        let cases = [
            ("Main.java", "Main"),
            ("a.b.py", "a.b"),
            ("main", "main"),
            (".hidden", ".hidden"),
            ("src/Main.java", "Main"),
        ];
        for (file_name, expected) in cases {
            assert_eq!(stem(file_name), expected, "stem of {file_name:?}");
        }
    }

    #[test]
    fn validation_rejects_unknown_placeholder() {
        let argv = strings(&["python3", "{mian}"]);

        let result = validate_argv(&argv, StepKind::Run);

        let reason = result.expect_err("expected `{mian}` to be rejected");
        assert!(
            reason.contains("unknown placeholder `{mian}`"),
            "reason was: {reason}"
        );
    }

    #[test]
    fn validation_rejects_unbalanced_braces() {
        for arg in ["{main", "main}", "x{y", "}{"] {
            let argv = strings(&["tool", arg]);

            let result = validate_argv(&argv, StepKind::Run);

            assert!(
                result.is_err(),
                "expected {arg:?} to be rejected, got {result:?}"
            );
        }
    }

    #[test]
    fn validation_rejects_sources_inside_argument() {
        let argv = strings(&["tool", "--files={sources}"]);

        let result = validate_argv(&argv, StepKind::Compile);

        assert!(
            result.is_err(),
            "expected an embedded {{sources}} to be rejected, got {result:?}"
        );
    }

    #[test]
    fn validation_rejects_memory_in_compile() {
        let argv = strings(&["javac", "-J-Xmx{memory_mb}m", "{sources}"]);

        let compile = validate_argv(&argv, StepKind::Compile);
        let run = validate_argv(&argv, StepKind::Run);

        assert!(
            compile.is_err(),
            "expected {{memory_mb}} to be rejected in compile, got {compile:?}"
        );
        assert!(
            run.is_ok(),
            "expected {{memory_mb}} to be accepted in run, got {run:?}"
        );
    }

    #[test]
    fn validation_rejects_empty_argv() {
        let empty: Vec<String> = Vec::new();
        let blank = strings(&[" "]);

        let empty_result = validate_argv(&empty, StepKind::Run);
        let blank_result = validate_argv(&blank, StepKind::Run);

        assert!(
            empty_result.is_err(),
            "expected an empty argv to be rejected"
        );
        assert!(
            blank_result.is_err(),
            "expected a blank argv[0] to be rejected"
        );
    }
}
