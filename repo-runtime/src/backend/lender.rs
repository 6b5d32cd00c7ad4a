//! A shelf in front of sqlx's pool. sqlx pings every connection handed back to its pool
//! (`sqlx-core` 0.9, unconditionally), so a statement that borrows from the pool and gives
//! back pays a second round trip on the servers, and on a small pool the next statement waits
//! for it. Connections whose statement finished cleanly wait on the shelf for the next
//! statement or transaction instead.
//!
//! A connection goes back to sqlx's pool (and through its ping, which closes it when broken)
//! when a statement on it failed or was cancelled, when it sat on the shelf for the hold, after
//! [`CUSTODY`] away from the pool in one stretch (so that `max_lifetime` and the idle reaper
//! still see it), when the pool is handed to hand-written code, and when the handle closes.

use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::oneshot;

/// Longest a connection stays away from sqlx's pool in one stretch, however busy.
const CUSTODY: Duration = Duration::from_secs(30);

/// sqlx's pool with the shelf in front.
pub(crate) struct Lender<DB: Database> {
    shelf: Arc<Shelf<DB>>,
}

struct Shelf<DB: Database> {
    pool: Pool<DB>,
    /// How long a connection may wait on the shelf; zero keeps none.
    hold: Duration,
    state: Mutex<Shelved<DB>>,
    /// Wakes the loans waiting for sqlx's pool when its server is found gone
    /// ([`Lender::give_up_waiting`]): its pool would go on trying to connect until their
    /// acquire timeout.
    gone: tokio::sync::Notify,
}

struct Shelved<DB: Database> {
    /// Most recently shelved last: the next loan takes the warmest connection.
    idle: Vec<Kept<DB>>,
    /// Loans waiting for a connection while sqlx's pool has none to give.
    waiting: VecDeque<oneshot::Sender<Kept<DB>>>,
}

struct Kept<DB: Database> {
    connection: PoolConnection<DB>,
    /// When it left sqlx's pool.
    taken: Instant,
    /// When it was last shelved.
    shelved: Instant,
}

/// Where a loaned connection goes when dropped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Back {
    /// On the shelf: its last statement completed.
    Shelf,
    /// To sqlx's pool, which pings it: a statement on it did not complete.
    Pool,
    /// Closed: its session state (a transaction, a lock) may not have been reset.
    Close,
}

/// A connection lent by a [`Lender`], as a pooled connection of sqlx's: it dereferences to the
/// backend's connection and goes back when dropped.
pub(crate) struct Loan<DB: Database> {
    connection: Option<PoolConnection<DB>>,
    taken: Instant,
    back: Back,
    shelf: Arc<Shelf<DB>>,
}

impl<DB: Database> Lender<DB> {
    /// The shelf in front of `pool`, keeping connections for `hold` (zero: none); its sweeper
    /// runs on the current Tokio runtime while the lender lives.
    pub(crate) fn new(pool: Pool<DB>, hold: Duration) -> Self {
        let shelf = Arc::new(Shelf {
            pool,
            hold,
            state: Mutex::new(Shelved {
                idle: Vec::new(),
                waiting: VecDeque::new(),
            }),
            gone: tokio::sync::Notify::new(),
        });
        if !hold.is_zero() {
            sweep(Arc::downgrade(&shelf), hold);
        }
        Lender { shelf }
    }

    /// The warmest connection on the shelf, if any.
    pub(crate) fn shelved(&self) -> Option<Loan<DB>> {
        let kept = self.shelf.lock().idle.pop()?;
        Some(self.shelf.loan(kept.connection, kept.taken))
    }

    /// A connection: the warmest on the shelf, else one from sqlx's pool, or one another loan
    /// hands back first while the pool has none.
    pub(crate) async fn lend(&self) -> Result<Loan<DB>, sqlx::Error> {
        let shelf = &self.shelf;
        let waiting = {
            let mut state = shelf.lock();
            if let Some(kept) = state.idle.pop() {
                drop(state);
                return Ok(shelf.loan(kept.connection, kept.taken));
            }
            if shelf.hold.is_zero() {
                None
            } else {
                state.waiting.retain(|waiter| !waiter.is_closed());
                let (sender, receiver) = oneshot::channel();
                state.waiting.push_back(sender);
                Some(receiver)
            }
        };
        let mut gone = std::pin::pin!(shelf.gone.notified());
        let Some(receiver) = waiting else {
            let mut acquiring = std::pin::pin!(shelf.pool.acquire());
            let connection = std::future::poll_fn(|cx| {
                if gone.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(server_gone()));
                }
                acquiring.as_mut().poll(cx)
            })
            .await?;
            return Ok(shelf.loan(connection, Instant::now()));
        };
        // With no idle connection and room to grow, the pool opens one for this acquire.
        let pool = &shelf.pool;
        let growing = pool.num_idle() == 0 && pool.size() < pool.options().get_max_connections();
        let mut acquire = Some(Box::pin(pool.acquire()));
        let mut receiver = Some(receiver);
        let loan = std::future::poll_fn(|cx| {
            if gone.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(server_gone()));
            }
            if let Some(handed) = receiver.as_mut() {
                match Pin::new(handed).poll(cx) {
                    Poll::Ready(Ok(kept)) => {
                        return Poll::Ready(Ok(shelf.loan(kept.connection, kept.taken)));
                    }
                    // The shelf closed: only the pool can answer now.
                    Poll::Ready(Err(_)) => receiver = None,
                    Poll::Pending => {}
                }
            }
            let Some(acquiring) = acquire.as_mut() else {
                return Poll::Pending;
            };
            let acquired = std::task::ready!(acquiring.as_mut().poll(cx));
            acquire = None;
            Poll::Ready(acquired.map(|connection| shelf.loan(connection, Instant::now())))
        })
        .await;
        // A connection handed over while the pool was opening one: the open goes on and
        // its connection joins the shelf. Cancelled, it would be redone by every loan that
        // a hand-off outruns (statements are faster than connecting), and the pool would
        // never grow past the connections it has, however many loans wait.
        if let (true, Some(acquiring)) = (growing, acquire) {
            shelf.keep_when_acquired(acquiring);
        }
        loan
    }

    /// The server was found gone (a node of a cluster the handle moved away from): the loans
    /// waiting for a connection fail at once, as transient, instead of waiting out their
    /// acquire timeout, and the shelved connections, dead too, go back to be closed.
    pub(crate) fn give_up_waiting(&self) {
        self.shelf.gone.notify_waiters();
        self.shelf.release_idle();
    }

    /// Whether no connection of the pool is open, nor being opened.
    pub(crate) fn is_unconnected(&self) -> bool {
        self.shelf.pool.size() == 0
    }

    /// sqlx's pool, with the shelf's connections given back to it first: hand-written code
    /// that borrows from it finds them there.
    pub(crate) fn pool(&self) -> &Pool<DB> {
        self.shelf.release_idle();
        &self.shelf.pool
    }

    /// Whether a loan would wait: nothing on the shelf and every connection of the pool in
    /// use.
    pub(crate) fn is_exhausted(&self) -> bool {
        let pool = &self.shelf.pool;
        // The pool's counters first: the shelf's lock only when they say it is full.
        pool.num_idle() == 0
            && pool.size() >= pool.options().get_max_connections()
            && self.shelf.lock().idle.is_empty()
    }

    /// Connections lent, open and idle (on the shelf or in sqlx's pool), the most there may
    /// be, and the loans waiting for one.
    #[cfg(feature = "metrics")]
    pub(crate) fn occupancy(&self) -> super::Occupancy {
        let pool = &self.shelf.pool;
        let (shelved, waiting) = {
            let state = self.shelf.lock();
            (state.idle.len() as u32, state.waiting.len() as u32)
        };
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX) + shelved;
        super::Occupancy {
            used: pool.size().saturating_sub(idle),
            idle,
            max: pool.options().get_max_connections(),
            waiting,
        }
    }

    /// Closes the pool, waiting for loaned connections to come back.
    pub(crate) async fn close(&self) {
        let waiting = {
            let mut state = self.shelf.lock();
            std::mem::take(&mut state.waiting)
        };
        drop(waiting);
        self.shelf.release_idle();
        self.shelf.pool.close().await;
    }
}

/// What a loan waiting on a server found gone fails with: a lost connection (transient).
fn server_gone() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the server was found gone while waiting for one of its connections",
    ))
}

impl<DB: Database> Shelf<DB> {
    fn lock(&self) -> MutexGuard<'_, Shelved<DB>> {
        // The state is a list and a queue, consistent after every operation: a panic
        // elsewhere leaves nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn loan(self: &Arc<Self>, connection: PoolConnection<DB>, taken: Instant) -> Loan<DB> {
        Loan {
            connection: Some(connection),
            taken,
            back: Back::Shelf,
            shelf: Arc::clone(self),
        }
    }

    /// Takes back a connection whose last statement completed: to a waiting loan, else onto
    /// the shelf, unless it has been away from the pool long enough.
    fn shelve(&self, connection: PoolConnection<DB>, taken: Instant) {
        if self.hold.is_zero() || taken.elapsed() >= CUSTODY || self.pool.is_closed() {
            return;
        }
        let mut kept = Kept {
            connection,
            taken,
            shelved: Instant::now(),
        };
        let mut state = self.lock();
        while let Some(waiter) = state.waiting.pop_front() {
            match waiter.send(kept) {
                Ok(()) => return,
                Err(refused) => kept = refused,
            }
        }
        state.idle.push(kept);
    }

    /// Lets `acquiring` finish on its own task and shelves what it acquires (for a waiting
    /// loan first).
    fn keep_when_acquired(
        self: &Arc<Self>,
        acquiring: Pin<
            Box<impl Future<Output = Result<PoolConnection<DB>, sqlx::Error>> + Send + 'static>,
        >,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shelf = Arc::downgrade(self);
        runtime.spawn(async move {
            // A failed open has no loan left to tell: the next loan meets the failure itself.
            if let (Ok(connection), Some(shelf)) = (acquiring.await, shelf.upgrade()) {
                shelf.shelve(connection, Instant::now());
            }
        });
    }

    /// Gives every shelved connection back to the pool.
    fn release_idle(&self) {
        let idle = std::mem::take(&mut self.lock().idle);
        drop(idle);
    }

    /// Gives back to the pool the connections shelved for the hold or longer.
    fn expire(&self) {
        let expired: Vec<Kept<DB>> = {
            let mut state = self.lock();
            let hold = self.hold;
            let (expired, fresh) = std::mem::take(&mut state.idle)
                .into_iter()
                .partition(|kept| kept.shelved.elapsed() >= hold);
            state.idle = fresh;
            expired
        };
        drop(expired);
    }
}

/// Every `hold`, gives back what the shelf held that long; stops with the lender or the pool.
fn sweep<DB: Database>(shelf: Weak<Shelf<DB>>, hold: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(hold).await;
            let Some(shelf) = shelf.upgrade() else { break };
            if shelf.pool.is_closed() {
                break;
            }
            shelf.expire();
        }
    });
}

impl<DB: Database> Loan<DB> {
    /// A statement is about to run: if the loan is dropped before [`Loan::completed`], the
    /// connection's state is unknown and it goes to sqlx's pool to be pinged.
    pub(crate) fn in_flight(&mut self) {
        if self.back == Back::Shelf {
            self.back = Back::Pool;
        }
    }

    /// The statement completed: the connection may be shelved again.
    pub(crate) fn completed(&mut self) {
        if self.back == Back::Pool {
            self.back = Back::Shelf;
        }
    }

    /// Closes the connection instead of giving it back.
    pub(crate) fn close_on_drop(&mut self) {
        self.back = Back::Close;
    }
}

impl<DB: Database> Deref for Loan<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.connection
            .as_deref()
            .expect("a loan holds its connection until dropped")
    }
}

impl<DB: Database> DerefMut for Loan<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.connection
            .as_deref_mut()
            .expect("a loan holds its connection until dropped")
    }
}

impl<DB: Database> Drop for Loan<DB> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        match self.back {
            Back::Shelf => self.shelf.shelve(connection, self.taken),
            Back::Pool => drop(connection),
            Back::Close => connection.close_on_drop(),
        }
    }
}
