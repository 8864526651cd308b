// fixq_requantize - an exact signed accumulator to an output code, as fixq does it.
//
// The accumulator `acc` stands for the value acc * 2^-ACC_FRAC; the output `y` is
// the code of an OUT_W-bit format (two's complement when OUT_SIGNED) at OUT_FRAC.
// The port `shift` carries ACC_FRAC - OUT_FRAC, so one instance serves every
// output channel of a layer with per-channel fractions:
//
//   shift > 0   rounding right shift by `shift` bits under ROUND
//   shift <= 0  exact left shift by -shift bits (it may overflow)
//
// and the result is narrowed to OUT_W bits under OVERFLOW. This is fixq's
// Fixed-to-Fixed conversion (include/fixq/core/convert.hpp, code_from_code) and
// its requantize kernel (include/fixq/kernels/requantize.hpp), bit for bit;
// tests/hdl checks every accumulator value and shift of small formats against
// the C++ scalar core.
//
// Parameters
//   ACC_W       accumulator width (signed), >= 1
//   OUT_W       output code width, >= 1
//   OUT_SIGNED  1: signed output codes, 0: unsigned
//   ROUND       fixq::Round, in the order of include/fixq/core/format.hpp. With
//               x = n + f the exact value in output LSBs (n = floor(x)):
//                 0 Floor                n
//                 1 Ceil                 n + (f > 0)
//                 2 TowardZero           trunc(x)
//                 3 NearestTiesToPosInf  nearest, ties up (the (x + half) >> k idiom)
//                 4 NearestTiesToNegInf  nearest, ties down
//                 5 NearestAway          nearest, ties away from zero
//                 6 NearestTiesToZero    nearest, ties toward zero
//                 7 NearestEven          nearest, ties to the even code
//                 8 NearestOdd           nearest, ties to the odd code
//               9 (Stochastic) needs a random word per element and is not
//               implemented: it and any other value fail elaboration.
//   OVERFLOW    fixq::Overflow, applied to the rounded value (a carry out of the
//               rounding takes part). Range [min, max] of the output format:
//                 0 Saturate           clamp to [min, max]
//                 1 SaturateSymmetric  clamp to [-max, max] (signed; the code min
//                                      is never produced; at OUT_W = 1 signed,
//                                      max = 0 and every value gives 0, as in fixq)
//                 2 SaturateZero       any overflow gives 0
//                 3 Wrap               the low OUT_W bits
//               Unsigned outputs have min = 0: negative values overflow low.
//               4 (Throw) has no hardware meaning; it and any other value fail
//               elaboration (`ovf` is the hardware's overflow report).
//   SHIFT_W     width of the signed `shift` port
//   MAX_LSHIFT  largest left shift (-shift) the barrel shifter implements
//   MAX_RSHIFT  largest right shift (shift) the barrel shifter implements
//
// Every shift value of the port is exact with the default MAX_LSHIFT/MAX_RSHIFT:
// a left shift by OUT_W or more bits overflows every nonzero accumulator and
// leaves zero low bits, so it gives the same code (and `ovf`) as a shift by
// exactly OUT_W; a right shift by ACC_W + 1 or more bits leaves |x| <= 1/4 and
// the same rounding decision (from the sign and nonzeroness of acc alone) as a
// shift by exactly ACC_W + 1. The shifters are therefore built for at most OUT_W
// and ACC_W + 1 positions and larger shifts are clamped to them. Smaller
// MAX_LSHIFT/MAX_RSHIFT build smaller shifters when the shifts are known to stay
// within them; a shift beyond them is then clamped to them, which is not exact
// (the caller's contract).
//
// Internally the rounded value is held in ACC_W + (left shift bound) + 3 bits
// (at least OUT_W + 3), so nothing is lost before the narrowing.
//
// Ports
//   acc    signed accumulator (two's complement)
//   shift  signed ACC_FRAC - OUT_FRAC
//   y      output code: OUT_W bits, two's complement when OUT_SIGNED
//   ovf    1 when the rounded value lay outside the range the overflow mode
//          keeps (so the mode changed it), e.g. for saturation counters
//
// Purely combinational; Icarus Verilog 11 compiles it with -g2012.
module fixq_requantize #(
    parameter int ACC_W      = 32,
    parameter int OUT_W      = 8,
    parameter int OUT_SIGNED = 1,
    parameter int ROUND      = 7,  // NearestEven, fixq's default
    parameter int OVERFLOW   = 0,  // Saturate, fixq's default
    parameter int SHIFT_W    = 8,
    parameter int MAX_LSHIFT = OUT_W,
    parameter int MAX_RSHIFT = ACC_W + 1
) (
    input  logic signed [ ACC_W-1:0] acc,
    input  logic signed [SHIFT_W-1:0] shift,
    output logic        [ OUT_W-1:0] y,
    output logic                     ovf
);

  // Parameter checks: an unsupported configuration instantiates a module that does
  // not exist, whose name says what is wrong. (Icarus 11 has no elaboration-time
  // $error; every tool rejects an unknown module at elaboration.)
  if (ROUND < 0 || ROUND > 8) begin : g_bad_round
    fixq_requantize_ERROR_ROUND_must_be_0_to_8_stochastic_is_not_supported unsupported_round ();
  end
  if (OVERFLOW < 0 || OVERFLOW > 3) begin : g_bad_overflow
    fixq_requantize_ERROR_OVERFLOW_must_be_0_to_3_throw_is_not_supported unsupported_overflow ();
  end
  if (ACC_W < 1 || OUT_W < 1 || SHIFT_W < 2 || (OUT_SIGNED != 0 && OUT_SIGNED != 1) ||
      MAX_LSHIFT < 0 || MAX_RSHIFT < 0) begin : g_bad_width
    fixq_requantize_ERROR_bad_width_or_shift_bound unsupported_width ();
  end

  // Shifter sizes: beyond these every shift gives the same result (see above).
  localparam int LS = MAX_LSHIFT < OUT_W ? MAX_LSHIFT : OUT_W;
  localparam int RS = MAX_RSHIFT < ACC_W + 1 ? MAX_RSHIFT : ACC_W + 1;
  // Working width: the left-shifted accumulator, or the output range with room
  // below -max and above max, plus a spare bit for the rounding carry.
  localparam int W0 = ACC_W + LS > OUT_W ? ACC_W + LS : OUT_W;
  localparam int W = W0 + 3;
  // Widths of the clamped shift amounts (unsigned) and of the signed shift as
  // compared with the bounds (one bit more than the port, so that -shift of its
  // most negative value does not overflow).
  localparam int SW = $clog2((LS > RS ? LS : RS) + 1) + 1;
  localparam int CW = SHIFT_W + 1 > SW ? SHIFT_W + 1 : SW;

  // Output range under the overflow mode, as W-bit signed values.
  localparam logic signed [W-1:0] ONE = 1;
  localparam logic signed [W-1:0] HI = OUT_SIGNED != 0 ? (ONE <<< (OUT_W - 1)) - ONE
                                                       : (ONE <<< OUT_W) - ONE;
  localparam logic signed [W-1:0] LO = OUT_SIGNED == 0 ? '0
                                     : OVERFLOW == 1 ? -HI
                                     : -(ONE <<< (OUT_W - 1));

  // Clamp the shift to the shifters' sizes.
  localparam logic signed [CW-1:0] LS_C = CW'(LS);
  localparam logic signed [CW-1:0] RS_C = CW'(RS);
  logic signed [CW-1:0] s, ns;
  logic [SW-1:0] r_amt, l_amt;
  assign s = CW'(shift);  // sign-extended
  assign ns = -s;
  assign r_amt = s > RS_C ? RS_C[SW-1:0] : s[CW-1] ? '0 : s[SW-1:0];
  assign l_amt = ns > LS_C ? LS_C[SW-1:0] : s[CW-1] ? ns[SW-1:0] : '0;

  // Rounding right shift: n = floor(acc / 2^r), rem = the dropped bits.
  logic signed [W-1:0] a, n, v;
  logic [W-1:0] rem, half;
  // (Each rounding mode uses only some of these facts.)
  // verilator lint_off UNUSEDSIGNAL
  logic zero, tie, above, neg, odd;
  // verilator lint_on UNUSEDSIGNAL
  logic up;
  assign a = W'(acc);  // sign-extended
  assign n = a >>> r_amt;
  assign rem = $unsigned(a) & ~({W{1'b1}} << r_amt);
  assign half = {{(W - 1) {1'b0}}, 1'b1} << r_amt >> 1;  // 0 when r_amt = 0
  assign zero = rem == '0;
  assign tie = !zero && rem == half;
  assign above = rem > half;
  assign neg = acc[ACC_W-1];  // x < 0 exactly when acc < 0 (and then n < 0)
  assign odd = n[0];

  // The rounding table (include/fixq/core/rounding.hpp, rounds_up).
  if (ROUND == 0) begin : g_floor
    assign up = 1'b0;
  end else if (ROUND == 1) begin : g_ceil
    assign up = !zero;
  end else if (ROUND == 2) begin : g_toward_zero
    assign up = neg && !zero;
  end else if (ROUND == 3) begin : g_ties_pos_inf
    assign up = above || tie;
  end else if (ROUND == 4) begin : g_ties_neg_inf
    assign up = above;
  end else if (ROUND == 5) begin : g_away
    assign up = above || (tie && !neg);
  end else if (ROUND == 6) begin : g_ties_zero
    assign up = above || (tie && neg);
  end else if (ROUND == 7) begin : g_even
    assign up = above || (tie && odd);
  end else begin : g_odd
    assign up = above || (tie && !odd);
  end

  // Rounded value (exact): a right shift and a left shift are never both nonzero.
  assign v = (n <<< l_amt) + $signed({{(W - 1) {1'b0}}, up});

  // Narrowing (include/fixq/core/overflow.hpp, narrow).
  logic in_range;
  assign in_range = v >= LO && v <= HI;
  assign ovf = !in_range;
  if (OVERFLOW == 0 || OVERFLOW == 1) begin : g_saturate
    assign y = in_range ? v[OUT_W-1:0] : v > HI ? HI[OUT_W-1:0] : LO[OUT_W-1:0];
  end else if (OVERFLOW == 2) begin : g_saturate_zero
    assign y = in_range ? v[OUT_W-1:0] : '0;
  end else begin : g_wrap
    assign y = v[OUT_W-1:0];
  end

endmodule
