{
  "targets": [
    {
      "target_name": "rtt_probe",
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
        "-fexceptions",
        "-fvisibility=hidden",
        "<!@(node scripts/lto-flags.mjs)"
      ],
      "ldflags": [
        "-pthread",
        "<!@(node scripts/lto-flags.mjs)"
      ],
      "conditions": [
        [
          "OS==\"linux\"",
          {
            "sources": [
              "native/core/address.cpp",
              "native/core/allow_list.cpp",
              "native/core/auth.cpp",
              "native/core/caps.cpp",
              "native/core/capture.cpp",
              "native/core/clock.cpp",
              "native/core/errors.cpp",
              "native/core/file_table.cpp",
              "native/core/flow_table.cpp",
              "native/core/histogram.cpp",
              "native/core/hwtstamp.cpp",
              "native/core/netlink.cpp",
              "native/core/open_transport.cpp",
              "native/core/pinning.cpp",
              "native/core/probe_stream.cpp",
              "native/core/rate_limit.cpp",
              "native/core/raw_transport.cpp",
              "native/core/reflector.cpp",
              "native/core/reflector_sessions.cpp",
              "native/core/run_facts.cpp",
              "native/core/mesh.cpp",
              "native/core/sender.cpp",
              "native/core/sockets.cpp",
              "native/core/tcp_server.cpp",
              "native/core/tcp_transport.cpp",
              "native/core/timestamping.cpp",
              "native/core/tun.cpp",
              "native/core/udp_transport.cpp",
              "native/core/user_clock.cpp",
              "native/core/wire.cpp",
              "native/addon/addon.cpp",
              "native/addon/caps.cpp",
              "native/addon/convert.cpp",
              "native/addon/histogram_record.cpp",
              "native/addon/reflector_wrap.cpp",
              "native/addon/mesh_wrap.cpp",
              "native/addon/sender_wrap.cpp",
              "native/addon/tun.cpp",
              "native/addon/wire_codec.cpp"
            ]
          }
        ],
        [
          "OS!=\"linux\"",
          {
            "type": "none"
          }
        ]
      ]
    }
  ]
}
