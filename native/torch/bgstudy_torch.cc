// N-API addon over libtorch: runs a tfjs layers graph (core/backend/torch-graph.ts describes it) with
// autograd, on the CPU or a CUDA device. Weights cross the boundary in tfjs's layouts, so a model built and
// seeded by core/ml/models.ts is copied in exactly and checkpoints are interchangeable with the tfjs engines.
// The optimizer matches core/ml/optimizer.ts (Adam with a bias-corrected step size computed by the caller,
// SGD with optional momentum); its slots live here, indexed like ExplicitOptimizer's.
#include <node_api.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using at::Tensor;

enum Op { INPUT, CHANNEL_DENSE, CONV, DEPTHWISE, BN, RELU, ADD, MAXPOOL, GAP, DENSE, ACTIVATION, MULTIPLY, CONCAT, RESHAPE, PERMUTE, CROP };
enum Activation { SIGMOID = 1, SWISH = 2 };
// How a weight is laid out here compared with tfjs: as is, a conv kernel ([kh,kw,in,out] there, [out,in,kh,kw]
// here) or a depthwise kernel ([kh,kw,in,mult] there, [in*mult,1,kh,kw] here).
enum Layout { PLAIN = 0, CONV_KERNEL = 1, DW_KERNEL = 2 };

struct Node {
  int op = INPUT;
  std::vector<int> in;
  std::vector<int> params;
  int kernel = 1, strides = 1;
  bool same = true;
  bool relu = false;
  double maxValue = -1, eps = 1e-3, momentum = 0.99;
  // RESHAPE: tfjs target shape without the batch; PERMUTE: tfjs's 1-based axes; CROP: top, bottom, left, right.
  std::vector<int64_t> dims;
  int activation = 0;
};

struct Param {
  Tensor t;
  int layout = PLAIN;
  std::vector<int64_t> tfShape;
  bool trainable = false;
};

struct Model {
  std::vector<Node> nodes;
  std::vector<Param> params;
  std::vector<int> trainable;
  std::vector<std::vector<Tensor>> slots;
  at::Device device{at::kCPU};
  bool channelsLast = false;
  bool bf16 = false;
  std::mutex mu;
};

Tensor toTorchLayout(const Tensor& tf, int layout) {
  if (layout == CONV_KERNEL) return tf.permute({3, 2, 0, 1}).contiguous();
  if (layout == DW_KERNEL) {
    auto s = tf.sizes();
    return tf.permute({2, 3, 0, 1}).reshape({s[2] * s[3], 1, s[0], s[1]}).contiguous();
  }
  return tf.contiguous();
}

Tensor toTfLayout(const Tensor& t, int layout, const std::vector<int64_t>& tfShape) {
  if (layout == CONV_KERNEL) return t.permute({2, 3, 1, 0}).contiguous();
  if (layout == DW_KERNEL)
    return t.reshape({tfShape[2], tfShape[3], tfShape[0], tfShape[1]}).permute({2, 3, 0, 1}).contiguous();
  return t.contiguous();
}

// TensorFlow's 'same' padding: the extra pixel of an odd total goes after (bottom/right).
std::pair<int64_t, int64_t> samePad(int64_t in, int64_t k, int64_t s) {
  int64_t out = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  return {total / 2, total - total / 2};
}

// Pads for a 'same' window op; returns the symmetric padding left for the op itself, or pads x explicitly.
int64_t padSame(Tensor& x, const Node& n, double fill) {
  if (!n.same) return 0;
  auto [top, bottom] = samePad(x.size(2), n.kernel, n.strides);
  auto [left, right] = samePad(x.size(3), n.kernel, n.strides);
  if (top == bottom && left == right && top == left) return top;
  x = at::constant_pad_nd(x, {left, right, top, bottom}, fill);
  return 0;
}

Tensor weight(const Model& m, const Node& n, size_t i) { return m.params[n.params[i]].t; }

// Rank-4 tensors live here as NCHW; every other rank keeps tfjs's layout. Reshape and permute act on tfjs's
// layout, so a rank-4 tensor goes through NHWC for them.
Tensor asTf(const Tensor& x) { return x.dim() == 4 ? x.permute({0, 2, 3, 1}) : x; }
Tensor fromTf(const Tensor& x) { return x.dim() == 4 ? x.permute({0, 3, 1, 2}) : x; }

Tensor forward(Model& m, const Tensor& input, bool training) {
  if (m.nodes.empty()) throw std::runtime_error("model was released");
  std::vector<Tensor> out(m.nodes.size());
  for (size_t i = 0; i < m.nodes.size(); i++) {
    const Node& n = m.nodes[i];
    Tensor x = n.op == INPUT ? input : out[n.in[0]];
    Tensor y;
    switch (n.op) {
      case INPUT:
        y = x;
        break;
      case CHANNEL_DENSE: {
        Tensor k = weight(m, n, 0);
        y = at::conv2d(x, k.t().reshape({k.size(1), k.size(0), 1, 1}), weight(m, n, 1));
        break;
      }
      case CONV:
      case DEPTHWISE: {
        Tensor w = weight(m, n, 0);
        Tensor b = n.params.size() > 1 ? weight(m, n, 1) : Tensor();
        int64_t pad = padSame(x, n, 0.0);
        int64_t groups = n.op == DEPTHWISE ? x.size(1) : 1;
        y = at::conv2d(x, w, b, {n.strides, n.strides}, {pad, pad}, {1, 1}, groups);
        break;
      }
      case BN: {
        Tensor gamma = weight(m, n, 0), beta = weight(m, n, 1);
        Tensor mean = weight(m, n, 2), var = weight(m, n, 3);
        if (!training) {
          y = at::batch_norm(x, gamma, beta, mean, var, false, 0.0, n.eps, true);
          break;
        }
        // Batch statistics through scratch buffers at momentum 1 (they receive the batch mean and the
        // unbiased variance), then tfjs-layers' update with the biased variance: v - (v - value) * (1 - momentum).
        auto opts = mean.options();
        Tensor bm = at::zeros_like(mean), bv = at::zeros_like(var);
        y = at::batch_norm(x, gamma, beta, bm, bv, true, 1.0, n.eps, true);
        at::NoGradGuard ng;
        double count = double(x.numel()) / double(x.size(1));
        Tensor biased = bv * ((count - 1) / count);
        mean.sub_((mean - bm) * (1 - n.momentum));
        var.sub_((var - biased) * (1 - n.momentum));
        (void)opts;
        break;
      }
      case RELU:
        // hardtanh: no gradient at either bound, as tfjs (relu6 passes none at 0).
        y = n.maxValue > 0 ? at::hardtanh(x, 0.0, n.maxValue) : at::relu(x);
        break;
      case ADD:
        y = x;
        for (size_t j = 1; j < n.in.size(); j++) y = y + out[n.in[j]];
        break;
      case MAXPOOL: {
        int64_t pad = padSame(x, n, -std::numeric_limits<double>::infinity());
        y = at::max_pool2d(x, {n.kernel, n.kernel}, {n.strides, n.strides}, {pad, pad});
        break;
      }
      case GAP:
        y = x.mean({2, 3});
        break;
      case DENSE: {
        Tensor k = weight(m, n, 0);
        y = n.params.size() > 1 ? at::addmm(weight(m, n, 1), x, k) : at::matmul(x, k);
        break;
      }
      case ACTIVATION:
        if (n.activation == SIGMOID)
          y = at::sigmoid(x);
        else if (n.activation == SWISH)
          y = at::silu(x);
        else
          throw std::runtime_error("unknown activation " + std::to_string(n.activation));
        break;
      case MULTIPLY:
        // [N,C,H,W] times [N,C,1,1] (squeeze-and-excitation) broadcasts as in tfjs.
        y = x;
        for (size_t j = 1; j < n.in.size(); j++) y = y * out[n.in[j]];
        break;
      case CONCAT: {
        std::vector<Tensor> parts;
        for (int j : n.in) parts.push_back(out[j]);
        y = at::cat(parts, 1);
        break;
      }
      case RESHAPE: {
        Tensor t = asTf(x);
        std::vector<int64_t> shape{t.size(0)};
        shape.insert(shape.end(), n.dims.begin(), n.dims.end());
        y = fromTf(t.reshape(shape));
        break;
      }
      case PERMUTE: {
        std::vector<int64_t> order{0};
        order.insert(order.end(), n.dims.begin(), n.dims.end());
        y = fromTf(asTf(x).permute(order));
        break;
      }
      case CROP:
        // tfjs crops axes 1 and 2 of [N, A, B, C], which are axes 2 and 3 here.
        y = x.narrow(2, n.dims[0], x.size(2) - n.dims[0] - n.dims[1]).narrow(3, n.dims[2], x.size(3) - n.dims[2] - n.dims[3]);
        break;
      default:
        throw std::runtime_error("unknown graph op " + std::to_string(n.op));
    }
    if (n.relu && n.op != RELU) y = at::relu(y);
    out[i] = y;
  }
  return out.back();
}

// Images arrive NHWC in [0, 1]; the graph runs NCHW (channels-last memory on CUDA, where cuDNN prefers it).
Tensor images(Model& m, const Tensor& nhwc) {
  Tensor x = nhwc.to(m.device, /*non_blocking=*/false).permute({0, 3, 1, 2});
  return m.channelsLast ? x.contiguous(at::MemoryFormat::ChannelsLast) : x.contiguous();
}

// Autocast is thread-local and every call may run on another libuv thread: set it around each call.
struct Autocast {
  bool on;
  bool cuda;
  Autocast(const Model& m) : on(m.bf16), cuda(m.device.is_cuda()) {
    if (!on) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::DeviceType d = cuda ? at::kCUDA : at::kCPU;
    at::autocast::set_autocast_dtype(d, at::kBFloat16);
    at::autocast::set_autocast_enabled(d, true);
#else
    if (cuda) {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
#endif
  }
  ~Autocast() {
    if (!on) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, false);
#else
    if (cuda)
      at::autocast::set_enabled(false);
    else
      at::autocast::set_cpu_enabled(false);
#endif
    at::autocast::clear_cache();
  }
};

struct StepOut {
  Tensor loss, correct;
  std::vector<Tensor> grads;
};

StepOut lossAndGrads(Model& m, const Tensor& xCpu, const Tensor& yCpu) {
  at::AutoGradMode grad(true);
  Autocast ac(m);
  Tensor x = images(m, xCpu);
  Tensor y = yCpu.to(m.device).to(at::kLong);
  Tensor logits = forward(m, x, true).to(at::kFloat);
  StepOut o;
  o.loss = at::cross_entropy_loss(logits, y);
  std::vector<Tensor> vars;
  for (int i : m.trainable) vars.push_back(m.params[i].t);
  o.grads = torch::autograd::grad({o.loss}, vars);
  o.correct = logits.argmax(1).eq(y).sum();
  return o;
}

// kind 0: Adam (a = step size, b = epsilon); 1: SGD (a = learning rate, b = momentum, 0 = none).
void applyUpdate(Model& m, const std::vector<Tensor>& grads, int kind, double a, double b) {
  at::NoGradGuard ng;
  const double b1 = 0.9, b2 = 0.999;
  for (size_t k = 0; k < m.trainable.size(); k++) {
    Tensor v = m.params[m.trainable[k]].t;
    const Tensor& g = grads[k];
    auto& s = m.slots[k];
    if (kind == 0) {
      s[0].mul_(b1).add_(g, 1 - b1);
      s[1].mul_(b2).addcmul_(g, g, 1 - b2);
      v.sub_(s[0] / (s[1].sqrt() + b) * a);
    } else if (!s.empty()) {
      s[0].mul_(b).add_(g);
      v.sub_(s[0] * a);
    } else {
      v.sub_(g * a);
    }
  }
}

// ---- N-API plumbing ----

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#define NAPI_OK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) throw JsError("N-API call failed: " #call); \
  } while (0)

napi_value prop(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  NAPI_OK(napi_get_named_property(env, obj, name, &v));
  return v;
}
double num(napi_env env, napi_value v) {
  double d;
  NAPI_OK(napi_get_value_double(env, v, &d));
  return d;
}
bool flag(napi_env env, napi_value v) {
  bool b;
  NAPI_OK(napi_get_value_bool(env, v, &b));
  return b;
}
std::string str(napi_env env, napi_value v) {
  size_t len;
  NAPI_OK(napi_get_value_string_utf8(env, v, nullptr, 0, &len));
  std::string s(len, '\0');
  NAPI_OK(napi_get_value_string_utf8(env, v, s.data(), len + 1, &len));
  return s;
}
std::vector<double> nums(napi_env env, napi_value arr) {
  uint32_t len;
  NAPI_OK(napi_get_array_length(env, arr, &len));
  std::vector<double> out(len);
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    NAPI_OK(napi_get_element(env, arr, i, &e));
    out[i] = num(env, e);
  }
  return out;
}
napi_value fromDouble(napi_env env, double d) {
  napi_value v;
  NAPI_OK(napi_create_double(env, d, &v));
  return v;
}

// A typed array's bytes as a CPU tensor (copied, so the JS array may go away).
Tensor typed(napi_env env, napi_value v, at::ScalarType want, const std::vector<int64_t>& shape) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t offset;
  NAPI_OK(napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset));
  bool ok = (want == at::kFloat && type == napi_float32_array) || (want == at::kInt && type == napi_int32_array);
  if (!ok) throw JsError(want == at::kFloat ? "expected a Float32Array" : "expected an Int32Array");
  int64_t n = 1;
  for (auto s : shape) n *= s;
  if (int64_t(length) != n)
    throw JsError("typed array has " + std::to_string(length) + " values, expected " + std::to_string(n));
  return at::from_blob(data, shape, at::TensorOptions().dtype(want)).clone();
}

napi_value float32(napi_env env, const Tensor& t) {
  Tensor c = t.to(at::kCPU).to(at::kFloat).contiguous();
  void* data;
  napi_value ab, arr;
  size_t n = size_t(c.numel());
  NAPI_OK(napi_create_arraybuffer(env, n * 4, &data, &ab));
  if (n) std::memcpy(data, c.data_ptr<float>(), n * 4);
  NAPI_OK(napi_create_typedarray(env, napi_float32_array, n, ab, 0, &arr));
  return arr;
}

void finalize(napi_env, void* data, void*) { delete static_cast<Model*>(data); }

Model* model(napi_env env, napi_value v) {
  void* p;
  NAPI_OK(napi_get_value_external(env, v, &p));
  return static_cast<Model*>(p);
}

struct Args {
  napi_value argv[8];
  size_t argc = 8;
  Args(napi_env env, napi_callback_info info) { NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr)); }
  napi_value operator[](size_t i) const {
    if (i >= argc) throw JsError("missing argument " + std::to_string(i));
    return argv[i];
  }
};

napi_value guarded(napi_env env, const std::function<napi_value()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // libtorch messages end with a C++ backtrace: keep the first line.
    msg = msg.substr(0, msg.find('\n'));
    napi_throw_error(env, nullptr, ("libtorch: " + msg).c_str());
    return nullptr;
  }
}

// Runs `work` on a libuv thread (so the event loop, and a Temporal heartbeat, keep running), then `done` on
// the main thread to build the value a promise resolves with.
struct AsyncCall {
  napi_async_work work;
  napi_deferred deferred;
  std::function<void()> run;
  std::function<napi_value(napi_env)> done;
  std::string error;
};

napi_value startAsync(napi_env env, std::function<void()> run, std::function<napi_value(napi_env)> done) {
  auto* call = new AsyncCall{nullptr, nullptr, std::move(run), std::move(done), ""};
  napi_value promise, name;
  NAPI_OK(napi_create_promise(env, &call->deferred, &promise));
  NAPI_OK(napi_create_string_utf8(env, "bgstudy_torch", NAPI_AUTO_LENGTH, &name));
  NAPI_OK(napi_create_async_work(
      env, nullptr, name,
      [](napi_env, void* data) {
        auto* c = static_cast<AsyncCall*>(data);
        try {
          c->run();
        } catch (const std::exception& e) {
          std::string msg = e.what();
          c->error = "libtorch: " + msg.substr(0, msg.find('\n'));
        }
      },
      [](napi_env env, napi_status, void* data) {
        auto* c = static_cast<AsyncCall*>(data);
        napi_value result = nullptr;
        std::string error = c->error;
        if (error.empty()) {
          try {
            result = c->done(env);
          } catch (const std::exception& e) {
            error = e.what();
          }
        }
        if (!error.empty()) {
          napi_value msg, err;
          napi_create_string_utf8(env, error.c_str(), NAPI_AUTO_LENGTH, &msg);
          napi_create_error(env, nullptr, msg, &err);
          napi_reject_deferred(env, c->deferred, err);
        } else {
          napi_resolve_deferred(env, c->deferred, result);
        }
        napi_delete_async_work(env, c->work);
        delete c;
      },
      call, &call->work));
  NAPI_OK(napi_queue_async_work(env, call->work));
  return promise;
}

// info(): {torch, cuda, cudaDevices, threads}
napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value o, v;
    NAPI_OK(napi_create_object(env, &o));
    std::string version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH);
    NAPI_OK(napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &v));
    NAPI_OK(napi_set_named_property(env, o, "torch", v));
    NAPI_OK(napi_get_boolean(env, torch::cuda::is_available(), &v));
    NAPI_OK(napi_set_named_property(env, o, "cuda", v));
    NAPI_OK(napi_set_named_property(env, o, "cudaDevices", fromDouble(env, double(torch::cuda::device_count()))));
    NAPI_OK(napi_set_named_property(env, o, "threads", fromDouble(env, at::get_num_threads())));
    return o;
  });
}

// setThreads(n): intra-op threads of the CPU engine (process-wide).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    at::set_num_threads(int(num(env, a[0])));
    return nullptr;
  });
}

// create({nodes, params, device, bf16, optimizer}) -> model handle. Params start at zero; setParam fills them.
napi_value Create(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    napi_value spec = a[0];
    auto m = std::make_unique<Model>();
    std::string device = str(env, prop(env, spec, "device"));
    m->device = at::Device(device);
    m->channelsLast = m->device.is_cuda();
    m->bf16 = flag(env, prop(env, spec, "bf16"));
    if (m->device.is_cuda()) {
      // Fixed shapes every step: let cuDNN pick its fastest algorithms (as torch.backends.cudnn.benchmark).
      at::globalContext().setBenchmarkCuDNN(true);
      // TF32 convolutions are PyTorch's default on Ampere and later; equivalence checks turn them off.
      bool hasTf32 = false;
      NAPI_OK(napi_has_named_property(env, spec, "tf32", &hasTf32));
      if (hasTf32) at::globalContext().setAllowTF32CuDNN(flag(env, prop(env, spec, "tf32")));
    }
    napi_value params = prop(env, spec, "params");
    uint32_t np;
    NAPI_OK(napi_get_array_length(env, params, &np));
    for (uint32_t i = 0; i < np; i++) {
      napi_value p;
      NAPI_OK(napi_get_element(env, params, i, &p));
      Param par;
      for (double d : nums(env, prop(env, p, "shape"))) par.tfShape.push_back(int64_t(d));
      par.layout = int(num(env, prop(env, p, "layout")));
      par.trainable = flag(env, prop(env, p, "trainable"));
      Tensor tf = at::zeros(par.tfShape, at::TensorOptions().dtype(at::kFloat));
      par.t = toTorchLayout(tf, par.layout).to(m->device);
      if (m->channelsLast && par.t.dim() == 4) par.t = par.t.contiguous(at::MemoryFormat::ChannelsLast);
      if (par.trainable) {
        par.t.set_requires_grad(true);
        m->trainable.push_back(int(i));
      }
      m->params.push_back(par);
    }
    napi_value nodes = prop(env, spec, "nodes");
    uint32_t nn;
    NAPI_OK(napi_get_array_length(env, nodes, &nn));
    for (uint32_t i = 0; i < nn; i++) {
      napi_value e;
      NAPI_OK(napi_get_element(env, nodes, i, &e));
      Node n;
      n.op = int(num(env, prop(env, e, "op")));
      for (double d : nums(env, prop(env, e, "inputs"))) n.in.push_back(int(d));
      for (double d : nums(env, prop(env, e, "params"))) {
        if (d < 0 || d >= np) throw JsError("node " + std::to_string(i) + " names a missing param");
        n.params.push_back(int(d));
      }
      for (int j : n.in)
        if (j < 0 || j >= int(i)) throw JsError("node " + std::to_string(i) + " reads a later node");
      if (n.op != INPUT && n.in.empty()) throw JsError("node " + std::to_string(i) + " has no input");
      n.kernel = int(num(env, prop(env, e, "kernel")));
      n.strides = int(num(env, prop(env, e, "strides")));
      n.same = flag(env, prop(env, e, "same"));
      n.relu = flag(env, prop(env, e, "relu"));
      n.maxValue = num(env, prop(env, e, "maxValue"));
      n.eps = num(env, prop(env, e, "eps"));
      n.momentum = num(env, prop(env, e, "momentum"));
      bool has = false;
      NAPI_OK(napi_has_named_property(env, e, "dims", &has));
      if (has)
        for (double d : nums(env, prop(env, e, "dims"))) n.dims.push_back(int64_t(d));
      NAPI_OK(napi_has_named_property(env, e, "activation", &has));
      if (has) n.activation = int(num(env, prop(env, e, "activation")));
      if (n.op == CROP && n.dims.size() != 4) throw JsError("node " + std::to_string(i) + ": crop needs 4 values");
      m->nodes.push_back(n);
    }
    if (m->nodes.empty() || m->nodes[0].op != INPUT) throw JsError("graph must start with its input");
    // Optimizer slots: 2 per trainable weight for Adam, 1 for SGD with momentum, none for plain SGD.
    int perVar = int(num(env, prop(env, spec, "slotsPerVar")));
    for (int i : m->trainable) {
      std::vector<Tensor> s;
      for (int j = 0; j < perVar; j++) s.push_back(at::zeros_like(m->params[i].t).detach());
      m->slots.push_back(s);
    }
    napi_value handle;
    Model* raw = m.release();
    NAPI_OK(napi_create_external(env, raw, finalize, nullptr, &handle));
    return handle;
  });
}

// setParam(model, i, Float32Array in tfjs layout)
napi_value SetParam(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    size_t i = size_t(num(env, a[1]));
    if (i >= m->params.size()) throw JsError("no param " + std::to_string(i));
    Param& p = m->params[i];
    Tensor v = toTorchLayout(typed(env, a[2], at::kFloat, p.tfShape), p.layout);
    at::NoGradGuard ng;
    p.t.copy_(v);
    return nullptr;
  });
}

// getParam(model, i) -> Float32Array in tfjs layout
napi_value GetParam(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    size_t i = size_t(num(env, a[1]));
    if (i >= m->params.size()) throw JsError("no param " + std::to_string(i));
    const Param& p = m->params[i];
    return float32(env, toTfLayout(p.t.detach().to(at::kCPU), p.layout, p.tfShape));
  });
}

// Optimizer slot j of trainable weight k, in the weight's tfjs layout (as ExplicitOptimizer stores it).
napi_value GetSlot(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    size_t k = size_t(num(env, a[1])), j = size_t(num(env, a[2]));
    if (k >= m->slots.size() || j >= m->slots[k].size()) throw JsError("no optimizer slot");
    const Param& p = m->params[m->trainable[k]];
    return float32(env, toTfLayout(m->slots[k][j].to(at::kCPU), p.layout, p.tfShape));
  });
}

napi_value SetSlot(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    size_t k = size_t(num(env, a[1])), j = size_t(num(env, a[2]));
    if (k >= m->slots.size() || j >= m->slots[k].size()) throw JsError("no optimizer slot");
    const Param& p = m->params[m->trainable[k]];
    m->slots[k][j].copy_(toTorchLayout(typed(env, a[3], at::kFloat, p.tfShape), p.layout));
    return nullptr;
  });
}

std::vector<int64_t> imageShape(napi_env env, const Args& a, size_t nArg, size_t sizeArg) {
  int64_t n = int64_t(num(env, a[nArg])), s = int64_t(num(env, a[sizeArg]));
  return {n, s, s, 3};
}

// trainStep(model, x, y, n, size, kind, a, b) -> Promise<[loss, correct]>
napi_value TrainStep(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    auto shape = imageShape(env, a, 3, 4);
    Tensor x = typed(env, a[1], at::kFloat, shape);
    Tensor y = typed(env, a[2], at::kInt, {shape[0]});
    int kind = int(num(env, a[5]));
    double ka = num(env, a[6]), kb = num(env, a[7]);
    auto result = std::make_shared<std::pair<double, double>>();
    return startAsync(
        env,
        [m, x, y, kind, ka, kb, result] {
          std::lock_guard<std::mutex> lock(m->mu);
          StepOut o = lossAndGrads(*m, x, y);
          applyUpdate(*m, o.grads, kind, ka, kb);
          result->first = o.loss.item<double>();
          result->second = o.correct.item<double>();
        },
        [result](napi_env env) {
          napi_value arr;
          NAPI_OK(napi_create_array_with_length(env, 2, &arr));
          NAPI_OK(napi_set_element(env, arr, 0, fromDouble(env, result->first)));
          NAPI_OK(napi_set_element(env, arr, 1, fromDouble(env, result->second)));
          return arr;
        });
  });
}

// gradients(model, x, y, n, size) -> {loss, grads: Float32Array[] in tfjs layout}; no update (BatchNorm's
// moving statistics do move, as in a tfjs train step).
napi_value Gradients(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    auto shape = imageShape(env, a, 3, 4);
    StepOut o = lossAndGrads(*m, typed(env, a[1], at::kFloat, shape), typed(env, a[2], at::kInt, {shape[0]}));
    napi_value out, grads;
    NAPI_OK(napi_create_object(env, &out));
    NAPI_OK(napi_set_named_property(env, out, "loss", fromDouble(env, o.loss.item<double>())));
    NAPI_OK(napi_create_array_with_length(env, o.grads.size(), &grads));
    for (size_t k = 0; k < o.grads.size(); k++) {
      const Param& p = m->params[m->trainable[k]];
      NAPI_OK(napi_set_element(env, grads, uint32_t(k), float32(env, toTfLayout(o.grads[k], p.layout, p.tfShape))));
    }
    NAPI_OK(napi_set_named_property(env, out, "grads", grads));
    return out;
  });
}

// predict(model, x, n, size) -> Promise<Float32Array> (logits, inference mode)
napi_value Predict(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    Tensor x = typed(env, a[1], at::kFloat, imageShape(env, a, 2, 3));
    auto result = std::make_shared<Tensor>();
    return startAsync(
        env,
        [m, x, result] {
          std::lock_guard<std::mutex> lock(m->mu);
          at::NoGradGuard ng;
          Autocast ac(*m);
          *result = forward(*m, images(*m, x), false).to(at::kFloat).to(at::kCPU);
        },
        [result](napi_env env) { return float32(env, *result); });
  });
}

// inputGradients(model, x, n, size, labels) -> Promise<Float32Array NHWC>: d logit[label] / d pixel, inference mode.
napi_value InputGradients(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    Model* m = model(env, a[0]);
    auto shape = imageShape(env, a, 2, 3);
    Tensor x = typed(env, a[1], at::kFloat, shape);
    Tensor labels = typed(env, a[4], at::kInt, {shape[0]});
    auto result = std::make_shared<Tensor>();
    return startAsync(
        env,
        [m, x, labels, result] {
          std::lock_guard<std::mutex> lock(m->mu);
          at::AutoGradMode grad(true);
          Autocast ac(*m);
          Tensor input = x.to(m->device).set_requires_grad(true);
          Tensor nchw = input.permute({0, 3, 1, 2});
          if (m->channelsLast) nchw = nchw.contiguous(at::MemoryFormat::ChannelsLast);
          Tensor logits = forward(*m, nchw, false).to(at::kFloat);
          Tensor picked = logits.gather(1, labels.to(m->device).to(at::kLong).unsqueeze(1)).sum();
          *result = torch::autograd::grad({picked}, {input})[0].to(at::kFloat).to(at::kCPU);
        },
        [result](napi_env env) { return float32(env, *result); });
  });
}

// release(model): frees its tensors now (device memory included) instead of at garbage collection.
napi_value Release(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info);
    Model* m = model(env, a[0]);
    std::lock_guard<std::mutex> lock(m->mu);
    m->params.clear();
    m->slots.clear();
    m->nodes.clear();
    m->trainable.clear();
    return nullptr;
  });
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"create", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setParam", nullptr, SetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getParam", nullptr, GetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getSlot", nullptr, GetSlot, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setSlot", nullptr, SetSlot, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainStep", nullptr, TrainStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gradients", nullptr, Gradients, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"predict", nullptr, Predict, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inputGradients", nullptr, InputGradients, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
