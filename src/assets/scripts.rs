//! The PowerShell launcher (baked into the AppStream image), the notebook script (delivered
//! through an SSM parameter) and the notebooks' idle-stop lifecycle script (an OnStart
//! lifecycle configuration: bash, with the Python idle check it installs), rendered from
//! `templates/` with minijinja.

use minijinja::{context, Environment, UndefinedBehavior};
use sandboxc_contract::validator::{
    session_file, session_file_path, NOTEBOOK_START_DEADLINE_SECONDS, NOTEBOOK_START_WAIT_SECONDS, SESSION_FILE_NAME,
    STARTING_PREFIX, URL_FILE_NAME,
};

use crate::blueprint::Names;

/// The launcher template (`templates/launcher.ps1.j2`).
pub const LAUNCHER_TEMPLATE: &str = include_str!("../../templates/launcher.ps1.j2");
/// The notebook script template (`templates/notebook.ps1.j2`).
pub const NOTEBOOK_TEMPLATE: &str = include_str!("../../templates/notebook.ps1.j2");

/// The idle-stop lifecycle script template (`templates/idle-stop.sh.j2`).
pub const IDLE_STOP_TEMPLATE: &str = include_str!("../../templates/idle-stop.sh.j2");
/// The idle check the lifecycle script installs (`templates/idle_stop.py`, plain Python).
pub const IDLE_STOP_PY: &str = include_str!("../../templates/idle_stop.py");
/// Minutes between two idle checks (cron).
pub const IDLE_CHECK_MINUTES: u32 = 5;
/// Longest lifecycle configuration script: 16384 characters of base64
/// (`NotebookInstanceLifecycleHook.Content`, SageMaker API reference), so at most 12288 bytes
/// of script.
pub const MAX_LIFECYCLE_CONTENT_CHARS: usize = 16_384;

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
        // A notebook that stopped itself while idle is started by the validator, which says so
        // first (an answer starting with STARTING_PREFIX) and waits at most
        // NOTEBOOK_START_DEADLINE_SECONDS; the script then waits NOTEBOOK_START_WAIT_SECONDS.
        starting_prefix => STARTING_PREFIX,
        start_deadline_seconds => NOTEBOOK_START_DEADLINE_SECONDS,
        start_wait_seconds => NOTEBOOK_START_WAIT_SECONDS,
        start_wait_minutes => NOTEBOOK_START_WAIT_SECONDS.div_ceil(60),
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

/// The OnStart lifecycle script of the notebooks of environment `env`: installs the idle check
/// (`templates/idle_stop.py`) to run every [`IDLE_CHECK_MINUTES`] minutes, stopping the notebook
/// after `idle` without kernel activity and without an open terminal.
///
/// # Errors
/// A message naming the template when rendering fails, or when the script would exceed the
/// lifecycle configuration's size ([`MAX_LIFECYCLE_CONTENT_CHARS`] of base64).
pub fn idle_stop(env_name: &str, idle: crate::blueprint::duration::Duration) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.add_template("idle-stop.sh", IDLE_STOP_TEMPLATE).map_err(|e| format!("templates/idle-stop.sh.j2: {e}"))?;
    let ctx = context! {
        env => env_name,
        idle_stop => idle.to_string(),
        idle_seconds => idle.as_secs(),
        check_minutes => IDLE_CHECK_MINUTES,
        idle_stop_py => IDLE_STOP_PY.trim_end(),
    };
    let script = env
        .get_template("idle-stop.sh")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| format!("templates/idle-stop.sh.j2: {e}"))?;
    let encoded = script.len().div_ceil(3) * 4;
    if encoded > MAX_LIFECYCLE_CONTENT_CHARS {
        return Err(format!(
            "templates/idle-stop.sh.j2: the rendered script is {} bytes, {encoded} characters of base64; a lifecycle configuration script holds at most {MAX_LIFECYCLE_CONTENT_CHARS}",
            script.len()
        ));
    }
    Ok(script)
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

    #[test]
    fn the_notebook_script_says_the_notebook_is_starting_and_waits_for_it() {
        let script = render(&Names::new("team")).unwrap_or_else(|e| panic!("{e}")).notebook;
        assert!(script.contains("if (-not $content.StartsWith('STARTING:')) {"), "{script}");
        // Told once, with a fixed text (never the file's), then the wait is extended to the
        // validator's whole timeout plus the home folder's sync.
        assert!(script.contains("it opens by itself when it is ready.', 'Data sandbox team')"), "{script}");
        assert_eq!(NOTEBOOK_START_WAIT_SECONDS, 900);
        assert!(script.contains("$deadline = (Get-Date).AddSeconds(900)"), "{script}");
        assert!(script.contains("at most about 15 minutes"), "{script}");
        let start = script.lines().find(|l| l.contains("Start-Process -WindowStyle Hidden")).unwrap_or_default();
        assert!(!start.is_empty() && !start.contains('$'), "the file's text never reaches a command: {start}");
    }

    #[test]
    fn the_idle_stop_script_installs_the_check_without_the_internet() {
        let script =
            idle_stop("team", crate::blueprint::duration::Duration::from_secs(3600)).unwrap_or_else(|e| panic!("{e}"));
        assert!(script.starts_with("#!/bin/bash\n"), "{script}");
        assert!(
            script.contains("echo \"*/5 * * * * root $python /opt/sandboxc/idle_stop.py 3600 $(cat /opt/sandboxc/started_at) >> /var/log/sandboxc-idle-stop.log 2>&1\" > /etc/cron.d/sandboxc-idle-stop"),
            "{script}"
        );
        assert!(script.contains(IDLE_STOP_PY.trim_end()), "the check is embedded whole");
        assert!(script.contains("stops after 1h without activity"), "{script}");
        for word in ["pip ", "wget", "curl", "http://", "yum ", "conda install"] {
            assert!(!script.contains(word), "{word} in the lifecycle script: the notebook has no internet");
        }
        // It never fails the start.
        assert!(!script.contains("set -e") && script.trim_end().ends_with("exit 0"), "{script}");
        assert!(script.len().div_ceil(3) * 4 <= MAX_LIFECYCLE_CONTENT_CHARS, "{} bytes", script.len());
    }

    /// The idle decision, run by the Python of this machine (when there is one) on answers as the
    /// Jupyter server's REST API gives them (`GET /api/kernels`, `GET /api/terminals`).
    #[test]
    fn the_idle_decision_reads_kernels_and_terminals() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let module = dir.path().join("idle_stop.py");
        if std::fs::write(&module, IDLE_STOP_PY).is_err() {
            return;
        }
        let harness = r#"
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("idle_stop", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
now = m.parse_time("2026-12-05T12:00:00.000000Z")
start = now - 86400
idle_kernel = {"id": "k1", "name": "python3", "last_activity": "2026-12-05T10:30:00.000000Z", "execution_state": "idle", "connections": 1}
recent = dict(idle_kernel, id="k2", last_activity="2026-12-05T11:45:00.000Z")
busy = dict(idle_kernel, id="k3", execution_state="busy")
terminal = {"name": "1", "last_activity": "2026-12-05T08:00:00Z"}
cases = [
    ("no kernel, no terminal", [], [], start),
    ("idle kernel", [idle_kernel], [], start),
    ("recent activity", [idle_kernel, recent], [], start),
    ("busy kernel", [busy], [], start),
    ("open terminal", [idle_kernel], [terminal], start),
    ("just started", [], [], now - 600),
    ("no last_activity", [dict(idle_kernel, last_activity=None)], [], start),
]
for name, kernels, terminals, started in cases:
    idle, reason = m.idle_decision(json.loads(json.dumps(kernels)), terminals, started, now, 3600)
    print("%s|%s|%s" % (name, idle, reason))
"#;
        let Ok(out) = std::process::Command::new("python3").arg("-c").arg(harness).arg(&module).output() else {
            eprintln!("note: no python3 here; the idle decision is not run");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "no kernel, no terminal|True|no activity for 3600 s: 0 kernel(s) idle, no terminal",
                "idle kernel|True|no activity for 3600 s: 1 kernel(s) idle, no terminal",
                "recent activity|False|kernel k2 active 900 s ago",
                "busy kernel|False|kernel k3 is busy",
                "open terminal|False|1 terminal(s) open",
                "just started|False|started 600 s ago",
                "no last_activity|False|kernel k1 has no last_activity",
            ]
        );
    }
}
