// Where the bench may send traffic. Load goes to loopback (127.0.0.0/8, ::1, localhost) unless
// the person names another host with --host: a load generator must never hit a machine by
// accident.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace udpchat::bench {

// True for a numeric address in 127.0.0.0/8, "::1", or the name "localhost". Names are not
// resolved (a lookup could itself leave the machine).
bool isLoopbackHost(std::string_view host);

// nullopt when the bench may load `host`; otherwise why not, for people.
// `givenExplicitly`: the person passed --host.
std::optional<std::string> targetRefusal(std::string_view host, bool givenExplicitly);

}  // namespace udpchat::bench
