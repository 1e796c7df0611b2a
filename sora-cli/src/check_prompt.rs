//! `sora check-prompt`: runs the prompt gate on a text against a registry
//! file, with no model: exit 0 when allowed, 3 when refused (the matched
//! entry is printed either way; `--json` prints the decision object).

use std::path::PathBuf;

use clap::Args;
use sora_core::safety::gate::{check_prompt, Credentials, EntryKind};
use sora_core::safety::registry::Registry;

/// Arguments of `sora check-prompt`.
#[derive(Args)]
pub struct CheckPromptArgs {
    /// The consent registry / protected list (JSON; see docs/safety.md).
    #[arg(long)]
    registry: PathBuf,
    /// A consent id the request would carry (repeatable).
    #[arg(long = "consent", value_name = "ID")]
    consents: Vec<String>,
    /// The owner key of the pipeline the request would run on.
    #[arg(long, value_name = "KEY")]
    owner: Option<String>,
    /// Print the decision as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// The prompt to check.
    text: String,
}

/// Runs the command: `Ok` when allowed, the refusal's error (exit 3) when not.
pub fn run(a: CheckPromptArgs) -> sora_core::Result<()> {
    let registry = Registry::load(&a.registry)?;
    let cred = Credentials::new(a.owner.as_deref(), &a.consents);
    let decision = check_prompt(&registry, &a.text, &cred);
    if a.json {
        println!("{}", decision.to_json());
    } else {
        println!(
            "{}: \"{}\"",
            if decision.allowed() {
                "allowed"
            } else {
                "refused"
            },
            decision.normalized
        );
        for f in &decision.findings {
            let kind = match f.kind {
                EntryKind::Person => "person",
                EntryKind::Protected => "protected",
            };
            let verdict = match (&f.refused, &f.consent) {
                (Some(why), _) => format!("refused: {why}"),
                (None, Some(id)) => format!("allowed by consent `{id}`"),
                (None, None) => "allowed".to_string(),
            };
            println!(
                "  {kind} `{}` (alias `{}`, matched \"{}\", {}, distance {}): {verdict}",
                f.entry,
                f.alias,
                f.matched,
                f.how.name(),
                f.distance
            );
        }
    }
    match decision.error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
