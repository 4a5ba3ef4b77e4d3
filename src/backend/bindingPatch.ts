/**
 * Two functions added to tfjs-node's C++ binding before setup-backend builds it from source, for the traced
 * steps of backend/tfFunction.ts:
 *  - maaiAddFunctionDef(Uint8Array): registers a serialized FunctionDef with the binding's eager context
 *    (TFE_ContextAddFunctionDef), so that executeOp can run it by name as one op;
 *  - maaiRemoveFunction(name): removes it again (TFE_ContextRemoveFunction), when its model is disposed;
 *  - maaiGetAllOpList(): the serialized OpList of the linked TensorFlow (TF_GetAllOpList), for output argument names.
 * The edit is textual, made on pristine copies (`*.orig` beside the sources), and idempotent; tfjs-node's own
 * code is unchanged otherwise. A stock
 * tfjs-node (installed by npm with its downloaded libtensorflow) lacks them, and the steps then stay eager.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bumped when the patch changes, so that setup-backend rebuilds an addon built with an older one. */
export const BINDING_PATCH_VERSION = 3;

const MARKER = '// maai-encoder binding patch';

const FUNCTIONS = `
${MARKER} v${BINDING_PATCH_VERSION}: FunctionDef registration and the op list (see maai-encoder's backend/bindingPatch.ts).
// The first argument of a call; false (with argc < 1) when there is none.
static bool MaaiFirstArg(napi_env env, napi_callback_info info, napi_value *arg) {
  size_t argc = 1;
  napi_value js_this;
  *arg = nullptr;
  napi_status nstatus = napi_get_cb_info(env, info, &argc, arg, &js_this, nullptr);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, false);
  return argc >= 1;
}

// Runs f(context, status) on the binding's eager context: undefined, or TensorFlow's status as a JS error.
template <typename F>
static napi_value MaaiWithContext(napi_env env, F f) {
  TFJSBackend *const backend = GetTFJSBackend(env);
  if (!backend) return nullptr;
  TF_AutoStatus tf_status;
  f(backend->tfe_context_, tf_status.status);
  ENSURE_TF_OK_RETVAL(env, tf_status, nullptr);
  napi_value undefined_value;
  napi_get_undefined(env, &undefined_value);
  return undefined_value;
}

static napi_value MaaiAddFunctionDef(napi_env env, napi_callback_info info) {
  napi_value arg;
  bool is_typed = false;
  if (MaaiFirstArg(env, info, &arg)) napi_is_typedarray(env, arg, &is_typed);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void *data = nullptr;
  napi_value array_buffer;
  size_t offset;
  if (is_typed) napi_get_typedarray_info(env, arg, &type, &length, &data, &array_buffer, &offset);
  if (!is_typed || type != napi_uint8_array) {
    NAPI_THROW_ERROR(env, "maaiAddFunctionDef() expects one Uint8Array");
    return nullptr;
  }
  return MaaiWithContext(env, [&](TFE_Context *ctx, TF_Status *status) {
    TFE_ContextAddFunctionDef(ctx, static_cast<const char *>(data), length, status);
  });
}

static napi_value MaaiRemoveFunction(napi_env env, napi_callback_info info) {
  napi_value arg;
  char name[256];
  size_t length = 0;
  if (!MaaiFirstArg(env, info, &arg) || napi_get_value_string_utf8(env, arg, name, sizeof(name), &length) != napi_ok) {
    NAPI_THROW_ERROR(env, "maaiRemoveFunction() expects a function name");
    return nullptr;
  }
  return MaaiWithContext(env, [&](TFE_Context *ctx, TF_Status *status) { TFE_ContextRemoveFunction(ctx, name, status); });
}

static napi_value MaaiGetAllOpList(napi_env env, napi_callback_info info) {
  TF_Buffer *op_list = TF_GetAllOpList();
  napi_value result;
  void *copy;
  napi_status nstatus = napi_create_buffer_copy(env, op_list->length, op_list->data, &copy, &result);
  TF_DeleteBuffer(op_list);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  return result;
}

`;

const INIT = 'static napi_value InitTFNodeJSBinding(napi_env env, napi_value exports) {';
const LAST_EXPORT = `      {"getNumOfTensors", nullptr, GetNumOfTensors, nullptr, nullptr,
       nullptr, napi_default, nullptr},`;
const NEW_EXPORTS = `
      {"maaiAddFunctionDef", nullptr, MaaiAddFunctionDef, nullptr, nullptr,
       nullptr, napi_default, nullptr},
      {"maaiRemoveFunction", nullptr, MaaiRemoveFunction, nullptr, nullptr,
       nullptr, napi_default, nullptr},
      {"maaiGetAllOpList", nullptr, MaaiGetAllOpList, nullptr, nullptr,
       nullptr, napi_default, nullptr},`;
const CONTEXT_FIELD = '  TFE_Context *tfe_context_;\n';

/**
 * Applies the patch to the binding sources in `pkgDir` (tfjs-node's package folder). Returns false when the
 * sources do not look as expected (another tfjs-node version): the addon is then built unpatched.
 */
export function patchBinding(pkgDir: string): boolean {
  const header = path.join(pkgDir, 'binding', 'tfjs_backend.h');
  const source = path.join(pkgDir, 'binding', 'tfjs_binding.cc');
  if (!fs.existsSync(header) || !fs.existsSync(source)) return false;
  // Patched from pristine copies kept beside the sources, so a newer patch replaces an older one.
  for (const f of [header, source]) {
    if (fs.existsSync(`${f}.orig`)) continue;
    if (fs.readFileSync(f, 'utf8').includes(MARKER)) return false; // patched by something else
    fs.copyFileSync(f, `${f}.orig`);
  }
  const h = fs.readFileSync(`${header}.orig`, 'utf8');
  const c = fs.readFileSync(`${source}.orig`, 'utf8');
  if (!c.includes(INIT) || !c.includes(LAST_EXPORT) || !h.includes(CONTEXT_FIELD)) return false;
  // The eager context becomes public so that the added functions can reach it.
  const h2 = h.replace(CONTEXT_FIELD, ` public:\n  ${MARKER}: public for MaaiAddFunctionDef\n${CONTEXT_FIELD}\n private:\n`);
  const c2 = c.replace(INIT, FUNCTIONS + INIT).replace(LAST_EXPORT, LAST_EXPORT + NEW_EXPORTS);
  if (fs.readFileSync(header, 'utf8') !== h2) fs.writeFileSync(header, h2);
  if (fs.readFileSync(source, 'utf8') !== c2) fs.writeFileSync(source, c2);
  return true;
}
