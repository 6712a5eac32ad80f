{
  "targets": [
    {
      "target_name": "tsw_native",
      "sources": [
        "src/native/tsw_native.c",
        "src/native/handles.c",
        "src/native/util.c",
        "src/native/afpacket.c",
        "src/native/tap.c",
        "src/native/link.c",
        "src/native/route.c",
        "src/native/wait.c",
        "src/native/offload.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-D_GNU_SOURCE"],
      "libraries": ["-lpthread"]
    }
  ]
}
