{
  "targets": [
    {
      "target_name": "rtsignal",
      "sources": ["rtsignal.c"],
      "cflags": ["-Wall", "-O2"]
    }
  ]
}
