//! The PowerShell launcher (baked into the AppStream image) and the notebook script (delivered
//! through an SSM parameter), rendered from `templates/` with minijinja.

use minijinja::{context, Environment, UndefinedBehavior};
use sandboxc_contract::validator::{session_file, session_file_path, SESSION_FILE_NAME, URL_FILE_NAME};

use crate::blueprint::Names;

/// The launcher template (`templates/launcher.ps1.j2`).
pub const LAUNCHER_TEMPLATE: &str = include_str!("../../templates/launcher.ps1.j2");
/// The notebook script template (`templates/notebook.ps1.j2`).
pub const NOTEBOOK_TEMPLATE: &str = include_str!("../../templates/notebook.ps1.j2");

/// Seconds the notebook script waits for its answer file (`session_url.txt`): home-folder files reach the session
/// "within a few minutes" (AppStream admin guide, home folders).
pub const WAIT_SECONDS: u32 = 300;
/// Seconds between two looks for `session_url.txt`.
pub const POLL_SECONDS: u32 = 5;

/// Both rendered scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// `launcher.ps1`, for the image builder.
    pub launcher: String,
    /// `notebook.ps1`, the SSM parameter's value.
    pub notebook: String,
}

/// The folder of this sandbox's session and answer files inside the home folder, with Windows
/// separators: the folder of `sandboxc_contract::validator::session_file_path` (`.sandboxc\<stack>`).
#[must_use]
pub fn sandbox_folder(appstream_stack: &str) -> String {
    let path = session_file_path(appstream_stack);
    let folder = path.strip_suffix(SESSION_FILE_NAME).unwrap_or(&path).trim_end_matches('/');
    folder.replace('/', "\\")
}

/// Renders both scripts for an environment.
///
/// # Errors
/// A message naming the template when rendering fails (a bug in a template).
pub fn render(names: &Names) -> Result<Scripts, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.add_template("launcher.ps1", LAUNCHER_TEMPLATE).map_err(|e| format!("templates/launcher.ps1.j2: {e}"))?;
    env.add_template("notebook.ps1", NOTEBOOK_TEMPLATE).map_err(|e| format!("templates/notebook.ps1.j2: {e}"))?;
    let ctx = context! {
        env => names.env,
        script_parameter => names.notebook_script_parameter,
        appstream_stack => names.appstream_stack,
        wait_seconds => WAIT_SECONDS,
        poll_seconds => POLL_SECONDS,
        // What the notebook script and the validator Lambda agree on: the files in the home
        // folder and the fields of session.json.
        session_file => SESSION_FILE_NAME,
        url_file => URL_FILE_NAME,
        // This sandbox's own folder in the home folder, `.sandboxc\<AppStream stack>` (Windows
        // separators): the folder of `session_file_path`, which the validator's rule matches.
        sandbox_folder => sandbox_folder(&names.appstream_stack),
        field_user => session_file::USER,
        field_session_id => session_file::SESSION_ID,
        field_stack_name => session_file::STACK_NAME,
        field_fleet_name => session_file::FLEET_NAME,
    };
    let render = |name: &str| -> Result<String, String> {
        env.get_template(name).and_then(|t| t.render(&ctx)).map_err(|e| format!("templates/{name}.j2: {e}"))
    };
    Ok(Scripts { launcher: render("launcher.ps1")?, notebook: render("notebook.ps1")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notebook_script_uses_only_its_own_sandbox_folder() {
        let scripts = render(&Names::new("team")).unwrap_or_else(|e| panic!("{e}"));
        let script = &scripts.notebook;
        assert_eq!(sandbox_folder("team-stack"), ".sandboxc\\team-stack");
        assert!(script.contains("$sandbox_folder = Join-Path $home_folder '.sandboxc\\team-stack'"), "{script}");
        assert!(script.contains("$session_file = Join-Path $sandbox_folder 'session.json'"), "{script}");
        assert!(script.contains("$url_file = Join-Path $sandbox_folder 'session_url.txt'"), "{script}");
        // Nothing is read or written directly in the home folder, where another sandbox (or an
        // earlier version) keeps its files.
        assert!(!script.contains("Join-Path $home_folder 'session"), "{script}");
        // Both files are removed after use.
        assert!(script.contains("Remove-Item -Path $session_file"), "{script}");
        assert!(script.contains("Remove-Item -Path $url_file"), "{script}");
    }
}
