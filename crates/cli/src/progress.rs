//! A progress line on stderr for long runs: percentage, steps/s and the time left. Drawn only
//! when stderr is a terminal (never into logs or pipes) and not `--quiet`; redrawn at most ten
//! times a second, and only for runs expected to last more than a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    label: String,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
}

/// Seconds as `1 h 02 min`, `3 min 05 s` or `12 s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

/// The progress line after `done` of `total` steps in `elapsed` seconds.
pub fn line(label: &str, done: u64, total: u64, elapsed: f64) -> String {
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let width = 24;
    let filled = ((fraction * width as f64) as usize).min(width);
    let rate = done as f64 / elapsed.max(1e-9);
    let left = (total - done.min(total)) as f64 / rate.max(1e-9);
    format!(
        "{label} [{}{}] {:>3.0}% {done}/{total} steps, {rate:.0} steps/s, ETA {}",
        "=".repeat(filled),
        " ".repeat(width - filled),
        fraction * 100.0,
        duration(left)
    )
}

impl Progress {
    /// A progress line, drawn if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, label: &str) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            label: label.to_string(),
            started: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let elapsed = now - self.started;
        if elapsed < Duration::from_millis(500) && !self.drawn {
            return;
        }
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
            && done < total
        {
            return;
        }
        // Skip runs that will be over within about a second.
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        if !self.drawn && (total - done.min(total)) as f64 / rate.max(1e-9) < 0.5 {
            return;
        }
        self.last = Some(now);
        self.drawn = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}\x1b[K",
            line(&self.label, done, total, elapsed.as_secs_f64())
        );
        let _ = err.flush();
    }

    /// Clear the line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_fraction_the_speed_and_the_time_left() {
        let l = line("ring", 250, 1000, 2.0);
        assert!(l.contains(" 25% 250/1000 steps"), "{l}");
        assert!(l.contains("125 steps/s"), "{l}");
        assert!(l.contains("ETA 6 s"), "{l}");
        assert!(l.contains("[======                  ]"), "{l}");
        assert_eq!(duration(3725.0), "1 h 02 min");
        assert_eq!(duration(185.0), "3 min 05 s");
    }
}
