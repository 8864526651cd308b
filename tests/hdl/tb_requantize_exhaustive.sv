// tb_requantize_exhaustive - hdl/fixq_requantize.sv against fixq's scalar core.
//
// Reads the vectors tests/hdl/requantize_vectors.cpp wrote for the same parameters
// (file given at run time: vvp ... +vectors=FILE), drives every line into the
// module and compares the code and the overflow flag. The file must hold every
// ACC_W-bit accumulator (inner loop, smallest first) for every shift from
// SHIFT_MIN to SHIFT_MAX (outer loop); a missing or out-of-order line is an error,
// so a short file cannot pass. Ends with one line starting FIXQ_HDL_PASS or
// FIXQ_HDL_FAIL; a failure also ends with $fatal.
module tb_requantize_exhaustive #(
    parameter int ACC_W      = 8,
    parameter int OUT_W      = 4,
    parameter int OUT_SIGNED = 1,
    parameter int ROUND      = 7,
    parameter int OVERFLOW   = 0,
    parameter int SHIFT_W    = 8,
    parameter int SHIFT_MIN  = -3,
    parameter int SHIFT_MAX  = 6,
    // The module's shifter bounds; -1 keeps its defaults (exact for every shift).
    parameter int MAX_LSHIFT = -1,
    parameter int MAX_RSHIFT = -1
);
  // Line layout: {acc, shift, code, ovf}, each zero-padded to whole hex digits.
  localparam int AB = 4 * ((ACC_W + 3) / 4);
  localparam int SB = 4 * ((SHIFT_W + 3) / 4);
  localparam int YB = 4 * ((OUT_W + 3) / 4);
  localparam int LB = AB + SB + YB + 4;
  localparam int NACC = 1 << ACC_W;
  localparam int NVEC = NACC * (SHIFT_MAX - SHIFT_MIN + 1);

  logic [LB-1:0] vectors[0:NVEC-1];
  logic signed [ACC_W-1:0] acc;
  logic signed [SHIFT_W-1:0] shift;
  logic [OUT_W-1:0] y;
  logic ovf;

  fixq_requantize #(
      .ACC_W(ACC_W),
      .OUT_W(OUT_W),
      .OUT_SIGNED(OUT_SIGNED),
      .ROUND(ROUND),
      .OVERFLOW(OVERFLOW),
      .SHIFT_W(SHIFT_W),
      .MAX_LSHIFT(MAX_LSHIFT >= 0 ? MAX_LSHIFT : OUT_W),
      .MAX_RSHIFT(MAX_RSHIFT >= 0 ? MAX_RSHIFT : ACC_W + 1)
  ) dut (
      .acc(acc),
      .shift(shift),
      .y(y),
      .ovf(ovf)
  );

  string path;
  logic [LB-1:0] line;
  logic signed [ACC_W-1:0] want_acc;
  logic signed [SHIFT_W-1:0] want_shift;
  logic [OUT_W-1:0] want_y;
  logic want_ovf;
  int errors;

  initial begin
    if (!$value$plusargs("vectors=%s", path)) begin
      $display("FIXQ_HDL_FAIL: no +vectors=FILE");
      $fatal(1);
    end
    $readmemh(path, vectors);
    errors = 0;
    for (int i = 0; i < NVEC; i++) begin
      line = vectors[i];
      want_acc = ACC_W'(i % NACC - NACC / 2);
      want_shift = SHIFT_W'(SHIFT_MIN + i / NACC);
      if ($isunknown(line) || line[LB-1-:AB] !== AB'($unsigned(want_acc)) ||
          line[LB-AB-1-:SB] !== SB'($unsigned(want_shift)) || line[3:1] !== 3'b0) begin
        $display("FIXQ_HDL_FAIL: vector file line %0d is %h, expected acc %0d shift %0d", i + 1,
                 line, want_acc, want_shift);
        $fatal(1);
      end
      acc = want_acc;
      shift = want_shift;
      want_y = line[4+:OUT_W];
      want_ovf = line[0];
      #1;
      if (y !== want_y || ovf !== want_ovf) begin
        errors++;
        if (errors <= 10)
          $display("mismatch: acc %0d shift %0d: code %h ovf %b, fixq gives code %h ovf %b", acc,
                   shift, y, ovf, want_y, want_ovf);
      end
    end
    $display("checked %0d vectors (ACC_W %0d, OUT_W %0d, OUT_SIGNED %0d, ROUND %0d, OVERFLOW %0d, shifts %0d..%0d, MAX_LSHIFT %0d, MAX_RSHIFT %0d), %0d mismatches",
             NVEC, ACC_W, OUT_W, OUT_SIGNED, ROUND, OVERFLOW, SHIFT_MIN, SHIFT_MAX,
             dut.LS, dut.RS, errors);
    if (errors != 0) begin
      $display("FIXQ_HDL_FAIL");
      $fatal(1);
    end
    $display("FIXQ_HDL_PASS");
    $finish;
  end
endmodule
