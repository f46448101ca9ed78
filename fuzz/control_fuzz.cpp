// libFuzzer target: the SO_TIMESTAMPING control-message parsers on arbitrary
// control buffers, as a misbehaving kernel, driver or future cmsg type could
// hand them. The buffer is exactly the input's size, so ASan catches any
// read past msg_controllen.
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

#include "timestamping.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // cmsghdr needs 8-byte alignment; malloc gives that and ASan guards the end.
  void* control = std::malloc(size ? size : 1);
  std::memcpy(control, data, size);
  msghdr msg{};
  msg.msg_control = control;
  msg.msg_controllen = size;
  rtt::RxStamps rx;
  rtt::parse_rx_control(msg, rx);
  rtt::TxStamp tx;
  rtt::parse_tx_stamp(msg, tx);
  std::free(control);
  return 0;
}
