// fixq/layers/describe.hpp - how a layer type describes its attributes and tensors.
//
// Every layer type L has a plain aggregate L::Params (everything its constructor
// takes besides the name) and a function
//
//   static void describe(fixq::AttrVisitor& v, L::Params& p);
//
// that visits each field once, with its key and its rules (range, default). One
// description serves every consumer, each a visitor of its own: the model file's
// reader fills the fields from JSON, its writer writes them, the list of allowed
// keys is collected from it, calibration replaces formats, and the export's
// manifest lists the scalar attributes. So a layer's attribute list is written in
// one place (the layer's own file) and cannot drift between reading and writing.
//
// Visitors see references and may change the values; describe() must visit the
// same fields in the same order whatever the values are, except that a default may
// depend on a field visited before it (MaxPool2D's strides default to its pool).
#ifndef FIXQ_LAYERS_DESCRIBE_HPP
#define FIXQ_LAYERS_DESCRIBE_HPP

#include <array>
#include <optional>
#include <span>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/layers/linear.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/layers/window.hpp>

namespace fixq {

namespace detail {
/// A built-in layer type names itself in its own header with a specialization of
/// BuiltinLayer<N>, N unique in [0, 64) (two specializations of one N do not
/// compile):  template <> struct BuiltinLayer<0> { using type = Dense; };
/// The registry (layers/registry.hpp) registers every one on first use.
template <int N>
struct BuiltinLayer {};

/// The format every slot of a float model holds (never used to compute; wide
/// enough that reductions stay within the exact-sum bound).
inline Format placeholder_format() { return Format{8, 0, true}; }
inline LinearFormats placeholder_linear() {
  return LinearFormats{placeholder_format(), placeholder_format(), {}, {}, QuantSpec{placeholder_format()}};
}
}  // namespace detail

/// What a float tensor attribute is to the code that treats weights specially.
enum class TensorRole {
  Weights,  ///< the weight matrix of the layer's linear core, output channel last
  Bias,     ///< the bias of the layer's linear core, one per output channel
  Other     ///< any other parameter (BatchNorm's gamma, beta, mean, var)
};

/// Where a scalar attribute appears: the model file only, or also the export's
/// manifest (what an implementation needs).
enum class AttrScope { FileOnly, FileAndManifest };

/// A visitor of a layer type's Params; see the top of this file.
class AttrVisitor {
 public:
  virtual ~AttrVisitor() = default;
  /// How many times a rebuild (layers/registry.hpp) walks the description, each
  /// walk announced by start_pass(0, 1, ...): a visitor that changes one field from
  /// another visited after it (calibration rounds the weights onto the formats it
  /// chose) asks for two.
  virtual int passes() const { return 1; }
  virtual void start_pass(int) {}
  /// A float tensor in a .npy file of its own named <layer>_<suffix>.npy. An
  /// optional tensor may be empty (absent); a required one has an element.
  virtual void tensor(const char* key, const char* suffix, NDArray<float>& t, TensorRole role, bool optional) = 0;
  /// A 1-D float tensor held as a vector (BatchNorm's statistics).
  virtual void vector(const char* key, const char* suffix, std::vector<float>& v) = 0;
  /// An integer in [lo, hi]; without a default it is required. It is written
  /// always (also when it equals the default).
  virtual void integer(const char* key, int& v, int lo, int hi, std::optional<int> dflt, AttrScope scope) = 0;
  /// A finite number (its range is the constructor's to check); required unless
  /// `omit` is given: a value equal to *omit is not written, and absent means *omit
  /// (ReLU's infinite cap).
  virtual void number(const char* key, double& v, std::optional<double> omit, AttrScope scope) = 0;
  /// Two integers >= lo; without a default required.
  virtual void pair(const char* key, std::array<int, 2>& v, int lo, std::optional<std::array<int, 2>> dflt) = 0;
  /// "valid", "same" or [top, bottom, left, right]; valid when absent.
  virtual void padding(const char* key, Padding& p) = 0;
  /// The format of a scalar parameter that the layer puts on a grid, e.g.
  /// LeakyReLU's slope: present exactly when the model has formats (calibration
  /// chooses it from `values`, as it does weight formats).
  virtual void param_format(const char* key, Format& f, std::span<const float> values) = 0;
  /// The output format with its rounding, overflow and seed (output_format, round,
  /// overflow, seed).
  virtual void output(QuantSpec& s) = 0;
  /// A Dense / Conv2D / BatchNorm layer's formats: weight_format (frac a list when
  /// per channel), bias_format, weight_round and the output as above. The input
  /// format comes from the layer's input, not from the attributes.
  virtual void linear(LinearFormats& f) = 0;
};

}  // namespace fixq

#endif  // FIXQ_LAYERS_DESCRIBE_HPP
