//! A server for one test, on a thread and runtime of its own, stopped and
//! joined when dropped.
//!
//! A server spawned on the test's runtime is only told to stop: its actix
//! workers, the app's background worker and their database pools outlive the
//! test, keep reconnecting to a dropped database, and are still running when
//! the test process exits. Joining makes a test leave nothing running.

use actix_web::dev::ServerHandle;
use std::future::Future;
use std::thread::JoinHandle;

pub struct ServerThread {
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Runs `start` on a new thread inside a fresh tokio runtime, then drives
    /// the server future it returns until stopped; gives back what `start`
    /// returned beside it. Panics with `start`'s error.
    pub fn spawn<T, F>(
        name: &str,
        start: impl FnOnce() -> Result<(F, ServerHandle, T), String> + Send + 'static,
    ) -> (ServerThread, T)
    where
        T: Send + 'static,
        F: Future + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async move {
                    match start() {
                        Ok((server, handle, value)) => {
                            let _ = tx.send(Ok((handle, value)));
                            server.await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime here ends the tasks the server spawned
                // (the app's worker) and waits for their blocking calls.
            })
            .expect("spawn the server thread");
        match rx.recv() {
            Ok(Ok((handle, value))) => (ServerThread { handle, thread: Some(thread) }, value),
            Ok(Err(e)) => panic!("{name} did not start: {e}"),
            Err(_) => panic!("{name} did not start: {:?}", thread.join().err()),
        }
    }

    /// Asks the server to stop; dropping the `ServerThread` also waits for it.
    pub fn stop(&self, graceful: bool) -> impl Future<Output = ()> + use<> {
        self.handle.stop(graceful)
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        // The command is sent at once; the returned future only reports completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            // Not while unwinding from a failed assertion: the panic is the
            // one to report, and a stuck server would hide it.
            if !std::thread::panicking() {
                let _ = thread.join();
            }
        }
    }
}
