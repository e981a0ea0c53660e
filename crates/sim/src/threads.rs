//! The thread pool a run or a benchmark executes in, and how its helper threads wait between parallel regions.
//!
//! A step of the simulator has two parallel regions (the hidden layers' forward blocks, then their learning blocks)
//! separated by a few microseconds of serial work (the output layer, the error pools). Rayon lets an idle worker
//! yield to the kernel a few dozen times and then sleep on a futex; waking it again costs tens of microseconds on a
//! virtual machine, twice a step, 800 times a presentation (29 % of a run's wall time was system time: docs/
//! performance.md, "Session 4: fewer bytes per step, and what a real run costs"). [`IdleWait::Spin`] keeps the
//! helpers busy instead: each runs a job that looks for work in the pool (`rayon::yield_now`) in a loop until the run
//! ends, so a parallel region finds them awake and no one sleeps.
//!
//! Which thread runs which block never depends on this choice (blocks are fixed, sums are in a fixed order), so
//! results are the same bits either way; only the wall time and the CPU time of idle helpers differ.

use rayon::{ThreadPool, Yield};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The most worker threads a pool may have per core. Results are the same bits at any count, so more threads only
/// add switching between them; tens of thousands would take minutes to start.
pub const MAX_THREADS_PER_CORE: usize = 8;

/// Refuses a thread count of 0 or above [`MAX_THREADS_PER_CORE`] per core of this machine.
pub fn check_threads(threads: usize) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = MAX_THREADS_PER_CORE * cores;
    if threads == 0 || threads > most {
        return Err(format!(
            "{threads} worker threads: expected 1 to {most} ({MAX_THREADS_PER_CORE} per core, and this machine has \
             {cores}); leave the thread count out for one per core"
        ));
    }
    Ok(())
}

/// A pool of `threads` worker threads (`None`: one per core), the error saying what failed.
pub fn pool(threads: Option<usize>) -> Result<ThreadPool, String> {
    if let Some(n) = threads {
        check_threads(n)?;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start the thread pool: {e}"))
}

/// How the pool's helper threads wait for work during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdleWait {
    /// Helpers keep looking for work (100 % of their cores while the run lasts): no sleep and wake-up between the
    /// parallel regions of a step. Faster in `snnsim bench` on the reference machine, no faster over a whole run
    /// (docs/performance.md, "Session 6: where a real run spends its time").
    Spin,
    /// Rayon's own policy: helpers yield, then sleep until woken. The default; the only sensible one when runs share
    /// cores.
    #[default]
    Sleep,
}

impl std::str::FromStr for IdleWait {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "spin" => Ok(Self::Spin),
            "sleep" => Ok(Self::Sleep),
            other => Err(format!("unknown idle wait `{other}`: expected `spin` or `sleep`")),
        }
    }
}

/// Sets a flag when dropped: the helpers stop even if the work panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs `work` on thread 0 of `pool`, its parallel regions using the pool's threads, the others waiting for work as
/// `wait` says. With one thread, or [`IdleWait::Sleep`], this is `pool.install(work)`. A panic in `work` is resumed
/// on the caller's thread after the helpers have stopped.
pub fn run_in_pool<R: Send>(pool: &ThreadPool, wait: IdleWait, work: impl FnOnce() -> R + Send) -> R {
    if pool.current_num_threads() < 2 || wait == IdleWait::Sleep {
        return pool.install(work);
    }
    let done = AtomicBool::new(false);
    let work = Mutex::new(Some(work));
    let mut results = pool.broadcast(|ctx| {
        if ctx.index() == 0 {
            let _stop_helpers = SetOnDrop(&done);
            let work = work
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .expect("the work runs on thread 0 only");
            Some(work())
        } else {
            while !done.load(Ordering::Acquire) {
                if pool.yield_now() != Some(Yield::Executed) {
                    std::hint::spin_loop();
                }
            }
            None
        }
    });
    results.swap_remove(0).expect("thread 0 returns the work's result")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    fn pool(n: usize) -> ThreadPool {
        rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()
    }

    /// The work runs on thread 0, and the helper takes part in its parallel regions. The kernel may start the helper
    /// late or put both threads on one core for a while, so regions are run until the helper has taken a block
    /// (within a generous limit), and every region's sum is checked.
    #[test]
    fn spinning_helpers_take_part_in_parallel_regions() {
        let p = pool(2);
        let block = |i: u64| (0..2_000u64).fold(i, |a, x| a.wrapping_mul(31).wrapping_add(x)) % 7;
        let expected: u64 = (0..8).map(block).sum();
        let helped = run_in_pool(&p, IdleWait::Spin, || {
            assert_eq!(rayon::current_thread_index(), Some(0));
            let start = std::time::Instant::now();
            let helped = AtomicBool::new(false);
            while !helped.load(Ordering::Relaxed) && start.elapsed().as_secs() < 20 {
                let sum: u64 = (0..8u64)
                    .into_par_iter()
                    .map(|i| {
                        if rayon::current_thread_index() != Some(0) {
                            helped.store(true, Ordering::Relaxed);
                        }
                        block(i)
                    })
                    .sum();
                assert_eq!(sum, expected);
            }
            helped.into_inner()
        });
        assert!(helped, "the helper thread never ran a block");
    }

    #[test]
    fn one_thread_and_sleeping_helpers_run_the_work_too() {
        for (n, wait) in [(1, IdleWait::Spin), (2, IdleWait::Sleep), (3, IdleWait::Spin)] {
            let p = pool(n);
            let r = run_in_pool(&p, wait, || (0..1000u32).into_par_iter().map(|x| x * 2).sum::<u32>());
            assert_eq!(r, 999_000);
        }
    }

    /// A panic in the work stops the helpers and reaches the caller (no hang).
    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let p = pool(2);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_in_pool(&p, IdleWait::Spin, || -> u32 { panic!("boom") })
        }));
        assert!(r.is_err());
        // The pool is still usable.
        assert_eq!(run_in_pool(&p, IdleWait::Spin, || 5), 5);
    }
}
