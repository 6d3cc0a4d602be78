//! Loading PKCS#11 modules, once per process.
//!
//! PKCS#11 allows `C_Initialize` once per process per module (a second call returns
//! `CKR_CRYPTOKI_ALREADY_INITIALIZED`, and some modules misbehave instead), so every module is
//! loaded and initialised through this registry and kept for the life of the process.
//! Initialisation passes `CKF_OS_LOCKING_OK`: without it SoftHSM 2.6 fails with
//! `CKR_GENERAL_ERROR` or crashes when called from several threads.
//!
//! [`shutdown`] undoes it in the order SoftHSM needs: every session closed (which also logs the
//! token out) before `C_Finalize`, because SoftHSM crashes when finalised with sessions logged in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;

use super::Error;
use super::pool::Token;

/// A loaded and initialised PKCS#11 module.
#[derive(Debug)]
pub(crate) struct Module {
    pub(crate) path: PathBuf,
    pub(crate) ctx: Pkcs11,
}

struct Registry {
    modules: HashMap<PathBuf, Arc<Module>>,
    /// Open tokens, so that two lookups of one token share one session pool and one login
    /// state (PKCS#11 login state belongs to the application, not to a session).
    tokens: Vec<Arc<Token>>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        modules: HashMap::new(),
        tokens: Vec::new(),
    })
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves the maps consistent (every insert is one call).
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Returns the module at `path`, loading and initialising it on first use.
pub(crate) fn load(path: &Path) -> Result<Arc<Module>, Error> {
    let mut reg = registry();
    if let Some(m) = reg.modules.get(path) {
        return Ok(Arc::clone(m));
    }
    if !path.exists() {
        return Err(Error::ModuleNotFound {
            path: path.to_owned(),
        });
    }
    let ctx = Pkcs11::new(path).map_err(|source| Error::ModuleLoad {
        path: path.to_owned(),
        source,
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        // Another library in this process initialised it first: usable as is.
        Err(cryptoki::error::Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => {
            return Err(Error::ModuleInit {
                path: path.to_owned(),
                source,
            });
        }
    }
    tracing::debug!(module = %path.display(), "PKCS#11 module initialised");
    let module = Arc::new(Module {
        path: path.to_owned(),
        ctx,
    });
    reg.modules.insert(path.to_owned(), Arc::clone(&module));
    Ok(module)
}

/// Finds the open token matching `matches`, or registers the one `create` builds.
pub(crate) fn token_entry(
    matches: impl Fn(&Token) -> bool,
    create: impl FnOnce() -> Result<Arc<Token>, Error>,
) -> Result<Arc<Token>, Error> {
    let mut reg = registry();
    if let Some(t) = reg.tokens.iter().find(|t| matches(t)) {
        return Ok(Arc::clone(t));
    }
    let token = create()?;
    reg.tokens.push(Arc::clone(&token));
    Ok(token)
}

/// Starts a module afresh after it stopped answering (`CKR_GENERAL_ERROR` while listing slots:
/// SoftHSM does this once a token it had open is deleted and re-created under it; a network HSM
/// after a failover). Closes the sessions of every token of that module (waiting up to `grace`
/// for lent ones), finalises it and forgets it; the next [`load`] initialises it again. Tokens
/// opened before stay closed ([`Error::ShutDown`]): their keys must be opened again, which the
/// service does after a token failure. Returns whether the module was finalised.
pub(crate) fn reinitialize(path: &Path, grace: Duration) -> bool {
    let (tokens, module) = {
        let mut reg = registry();
        let module = reg.modules.remove(path);
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut reg.tokens)
            .into_iter()
            .partition(|t| t.module_path() == path);
        reg.tokens = kept;
        (gone, module)
    };
    let mut all_closed = true;
    for token in &tokens {
        all_closed &= token.close(grace);
    }
    drop(tokens);
    tracing::warn!(module = %path.display(), "PKCS#11 module stopped answering: re-initialising it");
    match module {
        Some(module) if all_closed => module.ctx.clone().finalize().is_ok(),
        _ => false,
    }
}

/// Closes every session of every token, then finalises every module.
///
/// Waits up to `grace` for sessions in use to come back. If some do not (a signature still
/// running), the modules are left initialised rather than finalised under a live session, which
/// is what crashes SoftHSM; the process is about to exit anyway. Returns whether every module was
/// finalised. After shutdown the registry is empty and tokens must be opened again.
pub fn shutdown(grace: Duration) -> bool {
    let (tokens, modules) = {
        let mut reg = registry();
        (
            std::mem::take(&mut reg.tokens),
            std::mem::take(&mut reg.modules),
        )
    };
    let mut all_closed = true;
    for token in &tokens {
        all_closed &= token.close(grace);
    }
    if !all_closed {
        tracing::warn!("sessions still in use at shutdown: PKCS#11 modules not finalised");
        return false;
    }
    drop(tokens);
    let mut ok = true;
    for (path, module) in modules {
        if let Err(e) = module.ctx.clone().finalize() {
            tracing::warn!(module = %path.display(), error = %e, "C_Finalize failed");
            ok = false;
        }
    }
    ok
}
