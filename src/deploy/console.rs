//! Where `apply`, `bootstrap`, `destroy` and `status` talk to the person running them while
//! they run: progress lines, stack events, warnings, yes/no questions, and whether Ctrl-C was
//! pressed.
//!
//! [`Terminal`] draws live progress with indicatif when stderr is a terminal and prints plain
//! lines otherwise; [`Recorder`] keeps everything in memory and answers from a script (tests).

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::cloudformation::StackEvent;

/// What the deploy commands need from their surroundings.
pub trait Console {
    /// A line of text for the person (stdout).
    fn line(&mut self, text: &str);
    /// A warning the person must see even with `-q` (stderr), such as a stack policy that could
    /// not be set. Refusals, failures and interruptions are not printed here: they are the
    /// command's [`super::Outcome`], which the command line reports.
    fn problem(&mut self, text: &str);
    /// A stack event, with the path of its stack (`""` for the root, `Network` for the nested
    /// stack `NetworkNestedStack`...).
    fn event(&mut self, stack_path: &str, event: &StackEvent);
    /// Asks a yes/no question; `false` unless the answer is `y` or `yes`.
    fn confirm(&mut self, question: &str) -> bool;
    /// Whether the person asked to stop (Ctrl-C).
    fn interrupted(&mut self) -> bool;
}

/// One stack event as a line: `HH:MM:SS  STATUS  path/LogicalId (Type)  reason`.
#[must_use]
pub fn event_line(stack_path: &str, e: &StackEvent) -> String {
    let who = if stack_path.is_empty() { e.logical_id.clone() } else { format!("{stack_path}/{}", e.logical_id) };
    let mut line = format!("{}  {:<28} {who} ({})", utc_time(e.timestamp_ms), e.status, e.resource_type);
    if !e.reason.is_empty() {
        line.push_str(": ");
        line.push_str(&e.reason);
    }
    line
}

/// `HH:MM:SS` (UTC) of a time in milliseconds since the Unix epoch.
#[must_use]
pub fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The console of a person at a terminal (or of a CI job).
pub struct Terminal {
    interrupted: Arc<AtomicBool>,
    progress: Option<indicatif::ProgressBar>,
    live: bool,
    quiet: bool,
    events: u64,
}

impl Terminal {
    /// A console on stdout/stderr. Live progress is drawn (on stderr) only while events are
    /// followed and only when stderr is a terminal; `quiet` keeps only questions and
    /// problems. `interrupted` comes from [`install_ctrl_c`].
    #[must_use]
    pub fn new(quiet: bool, interrupted: Arc<AtomicBool>) -> Self {
        Self { interrupted, progress: None, live: std::io::stderr().is_terminal() && !quiet, quiet, events: 0 }
    }

    fn print(&self, text: &str) {
        let out = || {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        };
        match &self.progress {
            Some(bar) => bar.suspend(out),
            None => out(),
        }
    }

    fn stop_progress(&mut self) {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.stop_progress();
    }
}

impl Console for Terminal {
    fn line(&mut self, text: &str) {
        if !self.quiet {
            self.print(text);
        }
    }

    fn problem(&mut self, text: &str) {
        let out = || {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        };
        match &self.progress {
            Some(bar) => bar.suspend(out),
            None => out(),
        }
    }

    fn event(&mut self, stack_path: &str, event: &StackEvent) {
        self.events += 1;
        if self.live && self.progress.is_none() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            self.progress = Some(bar);
        }
        let failed = event.status.is_failed();
        if !self.quiet || failed {
            self.print(&event_line(stack_path, event));
        }
        if let Some(bar) = &self.progress {
            bar.set_message(format!("{} events; last: {} {}", self.events, event.logical_id, event.status));
        }
    }

    fn confirm(&mut self, question: &str) -> bool {
        self.stop_progress();
        let mut err = std::io::stderr().lock();
        if !std::io::stdin().is_terminal() {
            let _ = writeln!(err, "{question} -- no terminal to answer on (stdin is not a terminal): pass --yes to go ahead without asking");
            return false;
        }
        if self.interrupted.load(Ordering::SeqCst) {
            return false;
        }
        let _ = write!(err, "{question} [y/N] ");
        let _ = err.flush();
        drop(err);
        // The answer is read on its own thread, so that Ctrl-C (caught on the ctrlc thread)
        // ends the question at once: it counts as "no".
        let (send, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
            let _ = send.send(read);
        });
        loop {
            match answer.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(Ok(line)) => return matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
                Ok(Err(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return false,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if self.interrupted.load(Ordering::SeqCst) => {
                    let _ = writeln!(std::io::stderr().lock());
                    return false;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn interrupted(&mut self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }
}

/// A console for tests: records lines and events, answers questions from a script, and
/// reports an interrupt after a given number of events.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Everything shown, in order (event lines as [`event_line`] renders them).
    pub lines: Vec<String>,
    /// Questions asked.
    pub questions: Vec<String>,
    /// Answers to give, in order; `false` once exhausted.
    pub answers: Vec<bool>,
    /// Report an interrupt once this many events were shown.
    pub interrupt_after_events: Option<usize>,
    /// Events shown.
    pub events: usize,
}

impl Recorder {
    /// All lines joined by newlines.
    #[must_use]
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl Console for Recorder {
    fn line(&mut self, text: &str) {
        self.lines.push(text.to_string());
    }

    fn problem(&mut self, text: &str) {
        self.lines.push(text.to_string());
    }

    fn event(&mut self, stack_path: &str, event: &StackEvent) {
        self.events += 1;
        self.lines.push(event_line(stack_path, event));
    }

    fn confirm(&mut self, question: &str) -> bool {
        self.questions.push(question.to_string());
        if self.answers.is_empty() {
            false
        } else {
            self.answers.remove(0)
        }
    }

    fn interrupted(&mut self) -> bool {
        self.interrupt_after_events.is_some_and(|n| self.events >= n)
    }
}

/// Catches Ctrl-C (SIGINT) for the whole process: the first press sets the returned flag (the
/// deploy commands then stop at the next safe point: a question counts as "no", following
/// stops while CloudFormation goes on); a second press ends the process at once (exit code
/// 130). Called once per process; later calls return a flag that never turns true.
#[must_use]
pub fn install_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        let _ = writeln!(
            std::io::stderr().lock(),
            "\nCtrl-C: stopping at the next safe point (press Ctrl-C again to quit at once)"
        );
    });
    if installed.is_err() {
        return Arc::new(AtomicBool::new(false));
    }
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_clock_times() {
        assert_eq!(utc_time(0), "00:00:00");
        assert_eq!(utc_time(86_399_999), "23:59:59");
        assert_eq!(utc_time(1_764_400_000_000), "07:06:40");
    }
}
