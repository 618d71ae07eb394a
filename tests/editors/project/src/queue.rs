use tokio::sync::mpsc;

struct Job(u64);

// distsys-review: ignore[BKP001] one message per request
fn spawn_workers(_rx: mpsc::UnboundedReceiver<Job>) {}

fn main() {
    let (tx, rx) = mpsc::unbounded_channel::<Job>();
    spawn_workers(rx);
    let _ = tx.send(Job(1));
}
