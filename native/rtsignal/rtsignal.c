/*
 * rtsignal: catch real-time signals (SIGRTMIN+n) in Node through libuv.
 *
 * Why this exists: keepalived 2.2.7 dumps JSON on SIGRTMIN+2 (36) and clears stats
 * on SIGRTMAX-1 (63) (lib/signals.c get_signum()). Operators and exporters do
 * `kill -s $(keepalived --signum=JSON) PID`. Node 20's public API cannot listen for
 * real-time signals (process.on only accepts names in os.constants.signals), and an
 * unhandled SIGRTMIN+2 terminates the process (default action). libuv, which Node
 * itself uses for process.on('SIGUSR1'), handles any signal number: uv_signal_start
 * installs the handler once per process and wakes the event loop through its
 * self-pipe, so the JavaScript callback runs on the main thread like any other
 * event, never in signal context. The only alternative, process.binding('signal_wrap'),
 * is an internal, deprecated (DEP0111) API.
 *
 * API: watch(signum, callback) -> handle id; unwatch(id). Handles are unref'd so
 * they never keep the process alive.
 */
#include <node_api.h>
#include <uv.h>
#include <stdlib.h>

typedef struct {
  uv_signal_t handle;
  napi_env env;
  napi_ref callback;
  int active;
} watcher_t;

#define MAX_WATCHERS 64
static watcher_t *watchers[MAX_WATCHERS];

static void on_signal(uv_signal_t *h, int signum) {
  watcher_t *w = (watcher_t *)h->data;
  napi_handle_scope scope;
  if (napi_open_handle_scope(w->env, &scope) != napi_ok) return;
  napi_value cb, global, arg, result;
  if (napi_get_reference_value(w->env, w->callback, &cb) == napi_ok && cb != NULL &&
      napi_get_global(w->env, &global) == napi_ok && napi_create_int32(w->env, signum, &arg) == napi_ok) {
    /* napi_make_callback runs microtasks afterwards, like a normal Node callback. */
    napi_make_callback(w->env, NULL, global, cb, 1, &arg, &result);
    bool pending = false;
    if (napi_is_exception_pending(w->env, &pending) == napi_ok && pending) {
      napi_value exc;
      napi_get_and_clear_last_exception(w->env, &exc);
      napi_fatal_exception(w->env, exc);
    }
  }
  napi_close_handle_scope(w->env, scope);
}

static void on_close(uv_handle_t *h) { free(h->data); }

static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t signum = 0;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &signum) != napi_ok || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(signum: number, callback: function)");
    return NULL;
  }
  if (signum < 1 || signum > 64) {
    napi_throw_range_error(env, NULL, "signal number out of range");
    return NULL;
  }
  int slot = -1;
  for (int i = 0; i < MAX_WATCHERS; i++) if (!watchers[i]) { slot = i; break; }
  if (slot < 0) { napi_throw_error(env, NULL, "too many signal watchers"); return NULL; }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) { napi_throw_error(env, NULL, "no event loop"); return NULL; }
  watcher_t *w = calloc(1, sizeof(*w));
  if (!w) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  w->env = env;
  w->handle.data = w;
  napi_create_reference(env, argv[1], 1, &w->callback);
  int rc = uv_signal_init(loop, &w->handle);
  if (rc == 0) rc = uv_signal_start(&w->handle, on_signal, signum);
  if (rc != 0) {
    napi_delete_reference(env, w->callback);
    free(w);
    napi_throw_error(env, NULL, uv_strerror(rc));
    return NULL;
  }
  uv_unref((uv_handle_t *)&w->handle);
  w->active = 1;
  watchers[slot] = w;
  napi_value id;
  napi_create_int32(env, slot, &id);
  return id;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t slot = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &slot) != napi_ok || slot < 0 || slot >= MAX_WATCHERS || !watchers[slot]) return NULL;
  watcher_t *w = watchers[slot];
  watchers[slot] = NULL;
  uv_signal_stop(&w->handle);
  napi_delete_reference(env, w->callback);
  uv_close((uv_handle_t *)&w->handle, on_close);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "watch", NAPI_AUTO_LENGTH, watch, NULL, &fn);
  napi_set_named_property(env, exports, "watch", fn);
  napi_create_function(env, "unwatch", NAPI_AUTO_LENGTH, unwatch, NULL, &fn);
  napi_set_named_property(env, exports, "unwatch", fn);
  return exports;
}
