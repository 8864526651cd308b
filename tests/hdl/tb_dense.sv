// tb_dense - a Dense layer exported by fixq (include/fixq/io/export.hpp), computed
// in integer arithmetic with hdl/fixq_requantize.sv and compared with fixq's
// golden output codes.
//
// For sample n and output channel c (the manifest's integer semantics of Dense):
//   P = sum_k x[n][k] * w[k][c]                              (exact)
//   T = (P << product_shift[c]) + (b[c] << bias_shift[c])    (exact, ACC_W bits)
//   y[n][c] = fixq_requantize(T, shift[c]) under ROUND and OVERFLOW
//
// Files (paths as plusargs, all loaded with $readmemh; codes two's complement in
// their word, as export.hpp writes them):
//   +input=FILE    N * IN input codes, row-major (n, k)
//   +weight=FILE   IN * OUT weight codes, row-major (k, c)
//   +bias=FILE     OUT bias codes
//   +output=FILE   N * OUT golden output codes, row-major (n, c)
//   +requant=FILE  OUT lines {product_shift, bias_shift, shift}, 8-bit signed each
//                  (tests/hdl/dense_export.cpp writes it from manifest.json)
// Ends with one line starting FIXQ_HDL_PASS or FIXQ_HDL_FAIL; a failure also ends
// with $fatal.
module tb_dense #(
    parameter int N          = 1,
    parameter int IN         = 1,
    parameter int OUT        = 1,
    parameter int IN_W       = 8,
    parameter int IN_SIGNED  = 1,
    parameter int W_W        = 8,
    parameter int W_SIGNED   = 1,
    parameter int B_W        = 32,
    parameter int B_SIGNED   = 1,
    parameter int OUT_W      = 8,
    parameter int OUT_SIGNED = 1,
    parameter int ROUND      = 7,
    parameter int OVERFLOW   = 0,
    parameter int ACC_W      = 32  // bits of the exact sum T (the manifest's exact_sum_bits)
);
  logic [IN_W-1:0] x_mem[0:N*IN-1];
  logic [W_W-1:0] w_mem[0:IN*OUT-1];
  logic [B_W-1:0] b_mem[0:OUT-1];
  logic [OUT_W-1:0] y_mem[0:N*OUT-1];
  logic [23:0] rq_mem[0:OUT-1];

  logic signed [ACC_W-1:0] acc;
  logic signed [7:0] shift;
  logic [OUT_W-1:0] y;
  logic ovf;

  fixq_requantize #(
      .ACC_W(ACC_W),
      .OUT_W(OUT_W),
      .OUT_SIGNED(OUT_SIGNED),
      .ROUND(ROUND),
      .OVERFLOW(OVERFLOW),
      .SHIFT_W(8)
  ) dut (
      .acc(acc),
      .shift(shift),
      .y(y),
      .ovf(ovf)
  );

  // The integer a `width`-bit code (in the low bits of `bits`) stands for.
  function automatic logic signed [127:0] code_value(input logic [63:0] bits, input int width,
                                                     input int is_signed);
    logic signed [127:0] v;
    v = $signed({64'b0, bits});
    if (is_signed != 0 && bits[width-1]) v = v - (128'sd1 <<< width);
    return v;
  endfunction

  task automatic load(input string plusarg, output string path);
    if (!$value$plusargs({plusarg, "=%s"}, path)) begin
      $display("FIXQ_HDL_FAIL: no +%s=FILE", plusarg);
      $fatal(1);
    end
  endtask

  string path;
  logic signed [127:0] p, t, acc_min, acc_max;
  logic signed [7:0] product_shift, bias_shift;
  int errors, overflows;

  initial begin
    load("input", path);
    $readmemh(path, x_mem);
    load("weight", path);
    $readmemh(path, w_mem);
    load("bias", path);
    $readmemh(path, b_mem);
    load("output", path);
    $readmemh(path, y_mem);
    load("requant", path);
    $readmemh(path, rq_mem);
    // A short file leaves x: refuse it rather than compare against unknowns.
    if ($isunknown(x_mem[N*IN-1]) || $isunknown(w_mem[IN*OUT-1]) || $isunknown(b_mem[OUT-1]) ||
        $isunknown(y_mem[N*OUT-1]) || $isunknown(rq_mem[OUT-1])) begin
      $display("FIXQ_HDL_FAIL: a file holds fewer codes than its shape (N %0d, IN %0d, OUT %0d)", N,
               IN, OUT);
      $fatal(1);
    end

    acc_max = (128'sd1 <<< (ACC_W - 1)) - 1;
    acc_min = -(128'sd1 <<< (ACC_W - 1));
    errors = 0;
    overflows = 0;
    for (int n = 0; n < N; n++) begin
      for (int c = 0; c < OUT; c++) begin
        {product_shift, bias_shift, shift} = rq_mem[c];
        p = 0;
        for (int k = 0; k < IN; k++)
          p += code_value(64'(x_mem[n*IN+k]), IN_W, IN_SIGNED) *
               code_value(64'(w_mem[k*OUT+c]), W_W, W_SIGNED);
        t = (p <<< product_shift) + (code_value(64'(b_mem[c]), B_W, B_SIGNED) <<< bias_shift);
        if (t < acc_min || t > acc_max) begin
          $display("FIXQ_HDL_FAIL: sample %0d channel %0d: exact sum %0d does not fit ACC_W = %0d bits",
                   n, c, t, ACC_W);
          $fatal(1);
        end
        acc = t[ACC_W-1:0];
        #1;
        if (ovf) overflows++;
        if (y !== y_mem[n*OUT+c]) begin
          errors++;
          if (errors <= 10)
            $display("mismatch: sample %0d channel %0d: T %0d shift %0d: code %h, fixq gives %h", n, c,
                     t, shift, y, y_mem[n*OUT+c]);
        end
      end
    end
    $display("checked %0d outputs (N %0d, IN %0d, OUT %0d, ROUND %0d, OVERFLOW %0d, ACC_W %0d), %0d overflowed, %0d mismatches",
             N * OUT, N, IN, OUT, ROUND, OVERFLOW, ACC_W, overflows, errors);
    if (errors != 0) begin
      $display("FIXQ_HDL_FAIL");
      $fatal(1);
    end
    $display("FIXQ_HDL_PASS");
    $finish;
  end
endmodule
