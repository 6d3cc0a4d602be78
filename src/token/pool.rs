//! One open token: its slot, its login state and a pool of sessions.
//!
//! `cryptoki::Session` is `Send` but not `Sync`: a session serves one thread at a time. Opening
//! a session per signature costs a round trip to the token (and on network HSMs a TCP exchange),
//! so sessions are kept in a pool and lent out; a thread that finds every session busy waits for
//! one to come back instead of opening more than `max_sessions` (real tokens have session limits).
//!
//! Login state belongs to the application, not to a session (PKCS#11 v2.40 §5.6): one `C_Login`
//! serves every session, `C_Logout` through any session logs all of them out, and closing the last
//! session logs out too. So the token, not the session, remembers the PIN that worked, and a
//! freshly opened session that finds itself logged out logs in again with that PIN. A PIN the token
//! refused is never presented again: see [`Token::login`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::{Slot, TokenInfo};

use super::Error;
use super::module::{self, Module};
use super::pin::{Pin, PinSource};
use super::uri::Pkcs11Uri;

/// Defaults applied when a key URI leaves something out.
#[derive(Clone, Debug)]
pub struct TokenDefaults {
    /// The PKCS#11 module to load when the URI has no `module-path`.
    pub module: Option<std::path::PathBuf>,
    /// Where to read the PIN when the URI has no `pin-source`.
    pub pin_source: Option<PinSource>,
    /// Upper bound on sessions kept open per token.
    pub max_sessions: usize,
}

impl Default for TokenDefaults {
    fn default() -> Self {
        TokenDefaults {
            module: None,
            pin_source: None,
            max_sessions: default_max_sessions(),
        }
    }
}

/// Two sessions per core: enough for every signing thread to hold one while another thread
/// prepares its next document, few enough for tokens with small session limits.
pub fn default_max_sessions() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .max(4)
}

/// Counters describing a token's session pool, for `/metrics` and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub max_sessions: usize,
    pub open: usize,
    pub idle: usize,
    /// Pool sessions opened since the token was opened, including re-opens after failures.
    pub opened_total: u64,
    /// Sessions thrown away because the token declared them invalid.
    pub discarded_total: u64,
    /// Checkouts that had to wait for a session to come back.
    pub waits_total: u64,
}

/// An open PKCS#11 token. Shared (`Arc`) by every key on it; obtained with [`Token::open`].
pub struct Token {
    module: Arc<Module>,
    /// The URI's token selectors, kept to find the token again if its slot disappears.
    wanted: Pkcs11Uri,
    slot: Mutex<Slot>,
    label: String,
    serial: String,
    max_sessions: usize,
    pool: Mutex<PoolState>,
    returned: Condvar,
    /// The PIN that logged in successfully, for logging in again after the token logged us out.
    pin: Mutex<Option<Pin>>,
    /// Fingerprints of PINs this token refused; see [`Token::login`].
    refused: Mutex<Vec<[u8; 32]>>,
    fingerprint_key: aws_lc_rs::hmac::Key,
    opened_total: AtomicU64,
    discarded_total: AtomicU64,
    waits_total: AtomicU64,
}

struct PoolState {
    idle: Vec<Session>,
    open: usize,
    closed: bool,
}

impl Token {
    /// Opens the token the URI names (module from `module-path` or the defaults), or returns the
    /// already open one. Does not log in: see [`Token::ensure_login`].
    pub fn open(uri: &Pkcs11Uri, defaults: &TokenDefaults) -> Result<Arc<Token>, Error> {
        let path = match (&uri.module_path, &defaults.module) {
            (Some(p), _) => Path::new(p).to_owned(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                return Err(Error::NoModule {
                    uri: uri.to_string(),
                });
            }
        };
        let mut module = module::load(&path)?;
        let (slot, info) = match find_slot(&module, uri) {
            // The module lost track of its tokens (one deleted and re-created under it): start
            // it afresh, once, instead of asking for a process restart.
            Err(e) if e.return_value() == Some(RvError::GeneralError) => {
                module::reinitialize(&path, Duration::from_secs(10));
                module = module::load(&path)?;
                find_slot(&module, uri)?
            }
            other => other?,
        };
        let label = info.label().trim_end().to_owned();
        let serial = info.serial_number().trim_end().to_owned();
        module::token_entry(
            |t| t.module.path == module.path && t.serial == serial && t.label == label,
            || {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let fingerprint_key =
                    aws_lc_rs::hmac::Key::generate(aws_lc_rs::hmac::HMAC_SHA256, &rng).map_err(
                        |_| Error::PinSource {
                            source_name: "the system random generator".to_owned(),
                            reason: "unavailable".to_owned(),
                        },
                    )?;
                Ok(Arc::new(Token {
                    module: Arc::clone(&module),
                    wanted: token_selectors(uri),
                    slot: Mutex::new(slot),
                    label: label.clone(),
                    serial: serial.clone(),
                    max_sessions: defaults.max_sessions.max(1),
                    pool: Mutex::new(PoolState {
                        idle: Vec::new(),
                        open: 0,
                        closed: false,
                    }),
                    returned: Condvar::new(),
                    pin: Mutex::new(None),
                    refused: Mutex::new(Vec::new()),
                    fingerprint_key,
                    opened_total: AtomicU64::new(0),
                    discarded_total: AtomicU64::new(0),
                    waits_total: AtomicU64::new(0),
                }))
            },
        )
    }

    /// The token's label, as its `CK_TOKEN_INFO` gives it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The token's serial number.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The module this token was found in.
    pub fn module_path(&self) -> &Path {
        &self.module.path
    }

    /// The mechanisms the token offers.
    pub fn mechanisms(&self) -> Result<Vec<cryptoki::mechanism::MechanismType>, Error> {
        let slot = *lock(&self.slot);
        self.module
            .ctx
            .get_mechanism_list(slot)
            .map_err(|e| Error::from_cryptoki(&self.label, "C_GetMechanismList", e))
    }

    /// Whether a PIN has been accepted in this process.
    pub fn is_logged_in(&self) -> bool {
        lock(&self.pin).is_some()
    }

    /// Logs in with the PIN from `source` unless this process is logged in already.
    pub fn ensure_login(&self, source: Option<&PinSource>) -> Result<(), Error> {
        if self.is_logged_in() {
            return Ok(());
        }
        let source = source.ok_or_else(|| Error::PinRequired {
            token: self.label.clone(),
        })?;
        self.login(source.read(&self.label)?)
    }

    /// Logs the user in.
    ///
    /// A wrong PIN is reported and remembered (as a keyed hash, not the PIN): presenting the same
    /// PIN again fails at once with [`Error::PinAlreadyRefused`] without reaching the token, so no
    /// loop in kyso or in a client retrying requests can exhaust the token's PIN counter.
    pub fn login(&self, pin: Pin) -> Result<(), Error> {
        let fingerprint = pin.fingerprint(&self.fingerprint_key);
        if lock(&self.refused).contains(&fingerprint) {
            return Err(Error::PinAlreadyRefused {
                token: self.label.clone(),
            });
        }
        let session = self.checkout()?;
        match session.get().login(UserType::User, Some(pin.auth_pin())) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                *lock(&self.pin) = Some(pin);
                tracing::info!(token = %self.label, "logged in");
                Ok(())
            }
            Err(e) => {
                let err = Error::from_cryptoki(&self.label, "C_Login", e);
                if matches!(err, Error::PinIncorrect { .. }) {
                    lock(&self.refused).push(fingerprint);
                    tracing::warn!(token = %self.label, "login refused: wrong PIN (not retried)");
                }
                Err(err)
            }
        }
    }

    /// Runs `f` on a pooled read-only session.
    ///
    /// Failures that mean "this session is gone" (the token was removed and re-inserted, the
    /// handle invalidated) discard the session and run `f` once more on a fresh one; "not logged
    /// in" logs in again with the PIN that worked and runs `f` once more. Anything else is
    /// returned as it is, since retrying cannot help it.
    pub(crate) fn with_session<T>(
        &self,
        operation: &'static str,
        mut f: impl FnMut(&Session) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        let mut session = self.checkout()?;
        let first = f(session.get());
        let retry = match first {
            Ok(v) => return Ok(v),
            Err(CkError::Pkcs11(rv, _)) if session_is_gone(rv) => {
                tracing::info!(token = %self.label, error = %rv, "session lost, opening a new one");
                session.discard();
                session = self.checkout()?;
                true
            }
            Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => {
                self.restore_login(session.get())?;
                true
            }
            Err(e) => {
                if matches!(&e, CkError::Pkcs11(rv, _) if session_may_be_broken(*rv)) {
                    session.discard();
                }
                return Err(Error::from_cryptoki(&self.label, operation, e));
            }
        };
        debug_assert!(retry);
        f(session.get()).map_err(|e| {
            if matches!(&e, CkError::Pkcs11(rv, _) if session_is_gone(*rv) || session_may_be_broken(*rv)) {
                session.discard();
            }
            Error::from_cryptoki(&self.label, operation, e)
        })
    }

    /// Runs `f` on a new read-write session (object creation), logged in if a PIN was accepted.
    pub(crate) fn with_rw_session<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Session) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        let session = self.open_raw_session(true)?;
        self.restore_login(&session)?;
        f(&session).map_err(|e| Error::from_cryptoki(&self.label, operation, e))
    }

    /// Pool counters.
    pub fn stats(&self) -> PoolStats {
        let state = lock(&self.pool);
        PoolStats {
            max_sessions: self.max_sessions,
            open: state.open,
            idle: state.idle.len(),
            opened_total: self.opened_total.load(Ordering::Relaxed),
            discarded_total: self.discarded_total.load(Ordering::Relaxed),
            waits_total: self.waits_total.load(Ordering::Relaxed),
        }
    }

    /// Stops lending sessions, waits up to `grace` for lent ones to return, closes them all and
    /// forgets the PIN. Returns whether every session was returned and closed.
    pub(crate) fn close(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let mut state = lock(&self.pool);
        state.closed = true;
        while state.idle.len() < state.open {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let sessions = std::mem::take(&mut state.idle);
        state.open = 0;
        drop(state);
        // Closing the last session logs the application out (PKCS#11 v2.40 §5.6).
        drop(sessions);
        *lock(&self.pin) = None;
        true
    }

    fn checkout(&self) -> Result<Lent<'_>, Error> {
        let mut state = lock(&self.pool);
        let mut waited = false;
        loop {
            if state.closed {
                return Err(Error::ShutDown);
            }
            if let Some(session) = state.idle.pop() {
                return Ok(Lent {
                    token: self,
                    session: Some(session),
                });
            }
            if state.open < self.max_sessions {
                state.open += 1;
                drop(state);
                return match self.open_pooled_session() {
                    Ok(session) => Ok(Lent {
                        token: self,
                        session: Some(session),
                    }),
                    Err(e) => {
                        lock(&self.pool).open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            if !waited {
                waited = true;
                self.waits_total.fetch_add(1, Ordering::Relaxed);
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn open_pooled_session(&self) -> Result<Session, Error> {
        let session = self.open_raw_session(false)?;
        self.opened_total.fetch_add(1, Ordering::Relaxed);
        self.restore_login(&session)?;
        Ok(session)
    }

    /// Opens a session on the token's slot, finding the token again if the slot has gone (a
    /// token removed and re-inserted, or re-created, may come back in another slot).
    fn open_raw_session(&self, read_write: bool) -> Result<Session, Error> {
        let open = |slot: Slot| {
            if read_write {
                self.module.ctx.open_rw_session(slot)
            } else {
                self.module.ctx.open_ro_session(slot)
            }
        };
        let slot = *lock(&self.slot);
        let session = match open(slot) {
            Ok(s) => s,
            Err(CkError::Pkcs11(rv, _)) if slot_is_gone(rv) => {
                let (slot, _) = find_slot(&self.module, &self.wanted)?;
                *lock(&self.slot) = slot;
                open(slot).map_err(|e| Error::from_cryptoki(&self.label, "C_OpenSession", e))?
            }
            Err(e) => return Err(Error::from_cryptoki(&self.label, "C_OpenSession", e)),
        };
        Ok(session)
    }

    /// Logs `session`'s application in again with the remembered PIN if the token logged it out.
    fn restore_login(&self, session: &Session) -> Result<(), Error> {
        let mut pin = lock(&self.pin);
        let Some(known) = pin.as_ref() else {
            return Ok(());
        };
        let state = session
            .get_session_info()
            .map_err(|e| Error::from_cryptoki(&self.label, "C_GetSessionInfo", e))?
            .session_state();
        if matches!(state, SessionState::RoUser | SessionState::RwUser) {
            return Ok(());
        }
        match session.login(UserType::User, Some(known.auth_pin())) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(e) => {
                let err = Error::from_cryptoki(&self.label, "C_Login", e);
                if matches!(err, Error::PinIncorrect { .. }) {
                    // The PIN was changed under us: forget it and never present it again.
                    let fingerprint = known.fingerprint(&self.fingerprint_key);
                    lock(&self.refused).push(fingerprint);
                    *pin = None;
                }
                Err(err)
            }
        }
    }
}

/// A session lent out of the pool; goes back on drop unless discarded.
struct Lent<'a> {
    token: &'a Token,
    session: Option<Session>,
}

impl Lent<'_> {
    fn get(&self) -> &Session {
        self.session
            .as_ref()
            .expect("BUG: a lent session is present until dropped or discarded")
    }

    /// Closes the session instead of returning it: the token said it is no longer usable.
    fn discard(&mut self) {
        if let Some(session) = self.session.take() {
            drop(session);
            self.token.discarded_total.fetch_add(1, Ordering::Relaxed);
            lock(&self.token.pool).open -= 1;
            self.token.returned.notify_one();
        }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            lock(&self.token.pool).idle.push(session);
            self.token.returned.notify_one();
        }
    }
}

/// Locks `m`, ignoring poisoning: every critical section here leaves its data consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn session_is_gone(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
    )
}

/// Errors after which a session is not trusted to be in a clean state.
fn session_may_be_broken(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::DeviceError | RvError::GeneralError | RvError::OperationActive
    )
}

fn slot_is_gone(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::SlotIdInvalid
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::DeviceRemoved
    )
}

/// The URI with only the attributes that select a token.
fn token_selectors(uri: &Pkcs11Uri) -> Pkcs11Uri {
    Pkcs11Uri {
        token: uri.token.clone(),
        manufacturer: uri.manufacturer.clone(),
        serial: uri.serial.clone(),
        model: uri.model.clone(),
        slot_description: uri.slot_description.clone(),
        slot_manufacturer: uri.slot_manufacturer.clone(),
        slot_id: uri.slot_id,
        ..Default::default()
    }
}

/// Finds the one slot whose token matches the URI's token attributes.
pub(crate) fn find_slot(module: &Module, uri: &Pkcs11Uri) -> Result<(Slot, TokenInfo), Error> {
    let ck = |e| Error::from_cryptoki("(searching)", "C_GetSlotList", e);
    let mut present = Vec::new();
    let mut matching = Vec::new();
    for slot in module.ctx.get_slots_with_initialized_token().map_err(ck)? {
        let info = module
            .ctx
            .get_token_info(slot)
            .map_err(|e| Error::from_cryptoki("(searching)", "C_GetTokenInfo", e))?;
        let slot_info = module
            .ctx
            .get_slot_info(slot)
            .map_err(|e| Error::from_cryptoki("(searching)", "C_GetSlotInfo", e))?;
        present.push(info.label().trim_end().to_owned());
        let is = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.trim_end())
        };
        if is(&uri.token, info.label())
            && is(&uri.manufacturer, info.manufacturer_id())
            && is(&uri.serial, info.serial_number())
            && is(&uri.model, info.model())
            && is(&uri.slot_description, slot_info.slot_description())
            && is(&uri.slot_manufacturer, slot_info.manufacturer_id())
            && uri.slot_id.is_none_or(|id| id == slot.id())
        {
            matching.push((slot, info));
        }
    }
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(Error::TokenNotFound {
            module: module.path.clone(),
            wanted: uri.describe_token(),
            present,
        }),
        count => Err(Error::AmbiguousToken {
            module: module.path.clone(),
            wanted: uri.describe_token(),
            count,
        }),
    }
}
