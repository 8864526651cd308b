# The model files whose depth no small corpus file reaches, written to OUT and
# replayed with REPLAY (fuzz_model_replay, which runs each input on a 1 MiB stack):
#   long_chain.json    50001 layers listed before their inputs (L0 takes the last
#                      one, L1 the input, each other one the previous layer): a
#                      depth-first walk of the graph is as deep as the chain is long
#   deep_outputs.json  "outputs" nested 50000 lists deep (printing it in an error
#                      message would recurse as deep)
# cmake -DOUT=<folder> -DREPLAY=<fuzz_model_replay> -P deep_inputs.cmake
cmake_minimum_required(VERSION 3.20)
set(n 50000)
file(MAKE_DIRECTORY "${OUT}")

set(file "${OUT}/long_chain.json")
file(WRITE "${file}" "{\"fixq_model\":1,\"input\":{\"shape\":[4]},\"layers\":[")
file(APPEND "${file}" "{\"name\":\"L0\",\"type\":\"ReLU\",\"inputs\":[\"L${n}\"]},{\"name\":\"L1\",\"type\":\"ReLU\",\"inputs\":[\"input\"]}")
set(chunk "")
foreach(i RANGE 2 ${n})
  string(APPEND chunk ",{\"name\":\"L${i}\",\"type\":\"ReLU\"}")
  math(EXPR r "${i} % 1000")
  if(r EQUAL 0)  # appending in chunks keeps this linear
    file(APPEND "${file}" "${chunk}")
    set(chunk "")
  endif()
endforeach()
file(APPEND "${file}" "${chunk}]}")

string(REPEAT "[" ${n} open)
string(REPEAT "]" ${n} close)
file(WRITE "${OUT}/deep_outputs.json"
     "{\"fixq_model\":1,\"input\":{\"shape\":[4]},\"layers\":[{\"name\":\"a\",\"type\":\"ReLU\"}],\"outputs\":${open}${close}}")

execute_process(COMMAND "${REPLAY}" "${OUT}/long_chain.json" "${OUT}/deep_outputs.json" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${REPLAY} failed on the deep inputs: ${result}")
endif()
