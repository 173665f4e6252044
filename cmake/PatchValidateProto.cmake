# cmake -DIN=<npm validate.proto> -DOUT=<build tree copy> -P PatchValidateProto.cmake
#
# The validate.proto shipped in @grpc/grpc-js-xds is older than the Envoy protos beside it: they
# set `ignore_empty` on rules that file does not declare yet, and protoc refuses them. These are
# validation annotations only (no field of an Envoy message changes), so the build writes a copy
# into its own tree with the missing field added, with the number upstream protoc-gen-validate
# gives it, and puts that copy first on protoc's include path. Nothing is committed.
file(READ "${IN}" text)
set(numeric Float Double Int32 Int64 UInt32 UInt64 SInt32 SInt64 Fixed32 Fixed64 SFixed32
            SFixed64)
set(rules String:26 Bytes:14 Repeated:5 Map:6 Duration:0 Timestamp:0)
foreach(kind IN LISTS numeric)
  list(APPEND rules ${kind}:8)
endforeach()
foreach(rule IN LISTS rules)
  string(REPLACE ":" ";" parts "${rule}")
  list(GET parts 0 kind)
  list(GET parts 1 number)
  if(number EQUAL 0)
    continue()
  endif()
  string(FIND "${text}" "message ${kind}Rules {" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${IN}: no message ${kind}Rules; the npm package changed")
  endif()
  # Only when this message does not declare it yet (a newer package may).
  string(SUBSTRING "${text}" ${at} 4000 body)
  string(FIND "${body}" "\n}" end)
  string(SUBSTRING "${body}" 0 ${end} body)
  string(FIND "${body}" "ignore_empty" has)
  if(has EQUAL -1)
    string(REPLACE "message ${kind}Rules {"
                   "message ${kind}Rules {\n    optional bool ignore_empty = ${number};" text
                   "${text}")
  endif()
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
