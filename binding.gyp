{
  "targets": [
    {
      "target_name": "tsw_native",
      "sources": ["src/native/tsw_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
