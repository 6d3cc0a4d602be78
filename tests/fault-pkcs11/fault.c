/*
 * A fault-injecting PKCS#11 module for kyso's tests: it loads the real module named by
 * KYSO_FAULT_REAL_MODULE (SoftHSM), hands out the real function list with a few entries
 * replaced, and makes those entries fail on demand with return values SoftHSM itself never
 * gives: CKR_DEVICE_ERROR, CKR_PIN_LOCKED, CKR_SESSION_COUNT, CKR_SESSION_HANDLE_INVALID.
 *
 * The faults are read, at every intercepted call, from the file named by KYSO_FAULT_FILE, one
 * per line:
 *   sign device-error N      the next N C_Sign calls return CKR_DEVICE_ERROR
 *   sign session-invalid N   the next N C_Sign calls return CKR_SESSION_HANDLE_INVALID
 *   login pin-locked         every C_Login returns CKR_PIN_LOCKED
 *   open session-count       every C_OpenSession returns CKR_SESSION_COUNT
 * A test rewrites the file to change the faults; counts are kept in a sidecar file
 * (KYSO_FAULT_FILE + ".used") so that "next N" survives across calls. Calls are counted in
 * KYSO_FAULT_FILE + ".calls" (one line per intercepted call) so tests can prove, for example,
 * that a refused PIN was not presented twice.
 *
 * Test fixture only: compiled by tests/support.rs with the system C compiler, never shipped.
 * The PKCS#11 function list layout is the standard one (v2.40 §5.2): a version followed by 68
 * function pointers in a fixed order; only the indices used here are named.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long CK_RV;
typedef unsigned long CK_ULONG;
typedef struct { unsigned char major, minor; } CK_VERSION;
typedef CK_RV (*CK_FN)();
typedef struct {
    CK_VERSION version;
    CK_FN fns[68];
} CK_FUNCTION_LIST;
typedef CK_RV (*GetFunctionList)(CK_FUNCTION_LIST **);

#define IDX_OPEN_SESSION 12
#define IDX_LOGIN 18
#define IDX_SIGN 43

#define CKR_DEVICE_ERROR 0x30UL
#define CKR_PIN_LOCKED 0xA4UL
#define CKR_SESSION_COUNT 0xB1UL
#define CKR_SESSION_HANDLE_INVALID 0xB3UL

static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST ours;

static void record(const char *what) {
    const char *path = getenv("KYSO_FAULT_FILE");
    char calls[4096];
    if (!path) return;
    snprintf(calls, sizeof calls, "%s.calls", path);
    FILE *f = fopen(calls, "a");
    if (f) { fprintf(f, "%s\n", what); fclose(f); }
}

/* Whether a fault `call kind` is armed; for counted faults, consumes one. */
static int armed(const char *call, const char *kind) {
    const char *path = getenv("KYSO_FAULT_FILE");
    if (!path) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    int hit = 0;
    long count = -1;
    while (fgets(line, sizeof line, f)) {
        char c[64], k[64];
        long n = -1;
        int got = sscanf(line, "%63s %63s %ld", c, k, &n);
        if (got >= 2 && strcmp(c, call) == 0 && strcmp(k, kind) == 0) {
            hit = 1;
            count = got == 3 ? n : -1;
        }
    }
    fclose(f);
    if (!hit) return 0;
    if (count < 0) return 1;
    char used_path[4096];
    snprintf(used_path, sizeof used_path, "%s.used.%s.%s", path, call, kind);
    long used = 0;
    FILE *u = fopen(used_path, "r");
    if (u) { if (fscanf(u, "%ld", &used) != 1) used = 0; fclose(u); }
    if (used >= count) return 0;
    u = fopen(used_path, "w");
    if (u) { fprintf(u, "%ld\n", used + 1); fclose(u); }
    return 1;
}

static CK_RV fault_open_session(CK_ULONG slot, CK_ULONG flags, void *app, void *notify, CK_ULONG *session) {
    record("C_OpenSession");
    if (armed("open", "session-count")) return CKR_SESSION_COUNT;
    return real->fns[IDX_OPEN_SESSION](slot, flags, app, notify, session);
}

static CK_RV fault_login(CK_ULONG session, CK_ULONG user, unsigned char *pin, CK_ULONG len) {
    record("C_Login");
    if (armed("login", "pin-locked")) return CKR_PIN_LOCKED;
    return real->fns[IDX_LOGIN](session, user, pin, len);
}

static CK_RV fault_sign(CK_ULONG session, unsigned char *data, CK_ULONG len, unsigned char *sig, CK_ULONG *sig_len) {
    record("C_Sign");
    if (armed("sign", "device-error")) return CKR_DEVICE_ERROR;
    if (armed("sign", "session-invalid")) return CKR_SESSION_HANDLE_INVALID;
    return real->fns[IDX_SIGN](session, data, len, sig, sig_len);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list) {
    if (!real) {
        const char *module = getenv("KYSO_FAULT_REAL_MODULE");
        void *lib = dlopen(module ? module : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) return CKR_DEVICE_ERROR;
        GetFunctionList get = (GetFunctionList)dlsym(lib, "C_GetFunctionList");
        if (!get || get(&real) != 0) return CKR_DEVICE_ERROR;
        ours = *real;
        ours.fns[IDX_OPEN_SESSION] = (CK_FN)fault_open_session;
        ours.fns[IDX_LOGIN] = (CK_FN)fault_login;
        ours.fns[IDX_SIGN] = (CK_FN)fault_sign;
    }
    *list = &ours;
    return 0;
}
