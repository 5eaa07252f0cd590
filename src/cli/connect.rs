//! `sandboxc connect`: a streaming URL for one user (AppStream `CreateStreamingURL`).
//!
//! The blueprint is loaded and the request checked before any AWS call
//! (`crate::deploy::connect::request`); then the credentials and the pinned account
//! (`sts:GetCallerIdentity`), then the one call. The URL goes to standard output and nowhere
//! else: notes, the expiry and every error go to standard error and never hold it; `-v` logs
//! only the service, operation, HTTP status and duration of each request.

use super::args::{check_account, ConnectArgs};
use super::build::source;
use super::error::CliError;
use super::{Context, ExitStatus};
use crate::deploy::connect::{connect, request, StreamingUrl};
use crate::deploy::preflight::Place;

/// Opens a URL in a browser (the default browser in the binary; never in tests).
pub trait Browser {
    /// Opens `url`.
    ///
    /// # Errors
    /// Why it could not (never holding the URL).
    fn open(&self, url: &str) -> Result<(), String>;
}

/// The system's default browser (crate `webbrowser`, http(s) URLs only, the browser's output
/// suppressed).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultBrowser;

impl Browser for DefaultBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        // The error of `webbrowser` names the browser command, not the URL; its kind is enough.
        webbrowser::open(url).map_err(|e| format!("{:?}", e.kind()))
    }
}

/// `sandboxc connect`.
///
/// # Errors
/// [`CliError`].
pub fn run(args: &ConnectArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let blueprint = crate::blueprint::load(&source(args.blueprint.as_deref())?)?;
    let request = request(&blueprint, &args.user, &args.validity, args.application.as_deref())?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    for note in &request.notes {
        ctx.warn(note);
    }
    let (url, place) = ctx.runtime()?.block_on(async {
        let session = crate::aws::connect(&settings).await?;
        check_account(blueprint.account.as_deref(), &session.account)?;
        let place = Place::new(&session.account, &session.region);
        let url = connect(&session.appstream(), &request, &place).await?;
        Ok::<_, CliError>((url, place))
    })?;
    Ok(deliver(&url, &request, &place, args.open, &DefaultBrowser, ctx, &mut std::io::stdout().lock()))
}

/// Prints the URL on `out` (standard output) or opens it in `browser`; what else is said goes
/// to standard error (unless `-q`). A browser that cannot be opened gets a warning, and the URL
/// is printed instead.
pub fn deliver(
    url: &StreamingUrl,
    request: &crate::deploy::connect::Request,
    place: &Place,
    open: bool,
    browser: &dyn Browser,
    ctx: &Context,
    out: &mut dyn std::io::Write,
) -> ExitStatus {
    let expires = url.expires_epoch_seconds.map_or_else(
        || format!("valid for {}", crate::blueprint::duration::Duration::from_secs(request.validity_seconds)),
        |s| format!("valid until {}", crate::audit::time::Instant::from_millis(s.saturating_mul(1000))),
    );
    let about = format!(
        "streaming URL for user {} of AppStream stack {} (fleet {}) in account {}, {}: {expires}",
        request.user_id, request.stack_name, request.fleet_name, place.account, place.region
    );
    if open {
        match browser.open(url.expose()) {
            Ok(()) => {
                if !ctx.quiet {
                    ctx.warn(&format!("{about}; opened in the default browser"));
                }
                return ExitStatus::Success;
            }
            Err(why) => ctx.warn(&format!(
                "warning: the browser could not be opened ({why}); the URL is printed on standard output instead"
            )),
        }
    }
    if !ctx.quiet {
        ctx.warn(&about);
    }
    // The one place the URL is written (a closed pipe is not an error).
    let _ = writeln!(out, "{}", url.expose());
    ExitStatus::Success
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::connect::Request;

    struct FakeBrowser {
        works: bool,
        opened: std::cell::RefCell<Vec<String>>,
    }

    impl Browser for FakeBrowser {
        fn open(&self, url: &str) -> Result<(), String> {
            self.opened.borrow_mut().push(url.to_string());
            if self.works {
                Ok(())
            } else {
                Err("NotFound".into())
            }
        }
    }

    fn request() -> Request {
        Request {
            stack_name: "team-stack".into(),
            fleet_name: "team-on-demand".into(),
            user_id: "ann".into(),
            validity_seconds: 600,
            application_id: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn open_hands_the_url_to_the_browser_and_prints_it_only_when_the_browser_fails() {
        let url = StreamingUrl::new("https://example.test/s".into(), None);
        let place = Place::new("123456789012", "us-east-1");
        let ctx = Context { quiet: true, verbose: false };
        for (works, printed) in [(true, ""), (false, "https://example.test/s\n")] {
            let browser = FakeBrowser { works, opened: std::cell::RefCell::default() };
            let mut out = Vec::new();
            assert_eq!(deliver(&url, &request(), &place, true, &browser, &ctx, &mut out), ExitStatus::Success);
            assert_eq!(browser.opened.borrow().as_slice(), ["https://example.test/s"]);
            assert_eq!(String::from_utf8_lossy(&out), printed, "browser works: {works}");
        }
        // Without --open: printed, the browser untouched.
        let browser = FakeBrowser { works: true, opened: std::cell::RefCell::default() };
        let mut out = Vec::new();
        assert_eq!(deliver(&url, &request(), &place, false, &browser, &ctx, &mut out), ExitStatus::Success);
        assert!(browser.opened.borrow().is_empty());
        assert_eq!(String::from_utf8_lossy(&out), "https://example.test/s\n");
    }
}
