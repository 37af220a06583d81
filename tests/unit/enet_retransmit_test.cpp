// enet::armEarliestRetransmission on a hand-built ENet host, and the handshake timing helpers on
// a hand-built peer, and the server's rule for reading on: no sockets, times given.
#include <enet/enet.h>
#include <gtest/gtest.h>

#include <vector>

#include "transport/enet/enet_handles.hpp"

namespace udpchat::enet {
namespace {

// One connected peer whose list of unacknowledged reliable commands the test fills.
class FakeHost {
 public:
  FakeHost() : peers_(2) {
    for (ENetPeer& p : peers_) {
      enet_list_clear(&p.sentReliableCommands);
      p.state = ENET_PEER_STATE_DISCONNECTED;
    }
    peers_[0].state = ENET_PEER_STATE_CONNECTED;
    host_.peers = peers_.data();
    host_.peerCount = peers_.size();
    commands_.reserve(kArmScanLimit + 8);
  }
  ENetHost& host() { return host_; }
  ENetPeer& peer() { return peers_[0]; }
  // Appends a command as ENet does when it sends one: at the end of the list.
  void sent(enet_uint32 sentTime, enet_uint32 timeout, enet_uint16 attempts) {
    commands_.push_back(ENetOutgoingCommand{});
    ENetOutgoingCommand& c = commands_.back();
    c.sentTime = sentTime;
    c.roundTripTimeout = timeout;
    c.sendAttempts = attempts;
    enet_list_insert(enet_list_end(&peer().sentReliableCommands), &c);
  }

 private:
  ENetHost host_{};
  std::vector<ENetPeer> peers_;
  std::vector<ENetOutgoingCommand> commands_;  // reserved: never reallocates under the list
};

TEST(ArmEarliestRetransmission, ABackedOffFrontNoLongerHoldsBackANewerCommand) {
  // The front was retransmitted twice (timeout 52 -> 208, last sent at 1000): ENet armed the
  // check for 1208. A new command sent at 1010 with its own 52 ms timeout is due at 1062.
  FakeHost f;
  f.sent(1000, 208, 3);
  f.sent(1010, 52, 1);
  f.peer().nextTimeout = 1208;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 1u);
  EXPECT_EQ(f.peer().nextTimeout, 1062u);
  // Run again: nothing left to bring forward.
  EXPECT_EQ(armEarliestRetransmission(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1062u);
}

TEST(ArmEarliestRetransmission, AFrontSentOnceIsLeftToEnet) {
  // ENet's own rule is right when the front has its first timeout: later commands are due later
  // (unless the RTT estimate shrank, which the helper leaves alone to stay cheap).
  FakeHost f;
  f.sent(1000, 60, 1);
  f.sent(1010, 40, 1);
  f.peer().nextTimeout = 1060;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1060u);
}

TEST(ArmEarliestRetransmission, NeverDelaysACheckAlreadyDue) {
  FakeHost f;
  f.sent(1000, 208, 3);
  f.sent(1010, 52, 1);
  f.peer().nextTimeout = 1030;  // earlier than anything in the list: kept
  EXPECT_EQ(armEarliestRetransmission(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1030u);
}

TEST(ArmEarliestRetransmission, IgnoresEmptyListsAndPeersNotInUse) {
  FakeHost f;
  f.peer().nextTimeout = 5;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 0u);
  f.sent(1000, 208, 3);
  f.sent(1010, 52, 1);
  f.peer().state = ENET_PEER_STATE_DISCONNECTED;
  f.peer().nextTimeout = 1208;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1208u);
}

TEST(ArmEarliestRetransmission, LooksAtABoundedNumberOfCommandsPerPeer) {
  // A backlog longer than the scan limit: a command due early beyond it is left to ENet, one
  // within it is found.
  FakeHost f;
  f.sent(1000, 800, 4);
  for (std::size_t i = 1; i < kArmScanLimit; ++i) f.sent(1001, 700, 1);  // due at 1701
  f.sent(1002, 10, 1);  // due at 1012, but past the limit
  f.peer().nextTimeout = 1800;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 1u);
  EXPECT_EQ(f.peer().nextTimeout, 1701u);
}

TEST(ArmEarliestRetransmission, HandlesTheMillisecondClockWrapping) {
  // ENet's clock is a 32-bit millisecond count; due times past the wrap still compare right.
  FakeHost f;
  const enet_uint32 nearWrap = 0xFFFFFF00u;
  f.sent(nearWrap, 0x200, 3);  // due at 0x100 after the wrap
  f.sent(nearWrap + 0x10, 0x40, 1);  // due at 0xFFFFFF50, before the wrap
  f.peer().nextTimeout = nearWrap + 0x200;
  EXPECT_EQ(armEarliestRetransmission(f.host()), 1u);
  EXPECT_EQ(f.peer().nextTimeout, nearWrap + 0x50);
}

// ---- undoing the backoff while acknowledgements arrive (undoBackoffWhileAcknowledged) --------

TEST(UndoBackoff, AResentCommandGetsANewCommandsTimeoutOnceAnAcknowledgementArrives) {
  // RTT 40, variation 3: a new command would get 52 ms. The front was lost once and resent at
  // 1100 with its timeout doubled to 104 (due 1204); an acknowledgement of a later command came
  // at 1120.
  FakeHost f;
  f.peer().roundTripTime = 40;
  f.peer().roundTripTimeVariance = 3;
  f.sent(1100, 104, 2);
  f.sent(1105, 52, 1);
  f.peer().nextTimeout = 1204;
  f.peer().lastReceiveTime = 1120;
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 1u);
  const auto* front =
      static_cast<const ENetOutgoingCommand*>(enet_list_front(&f.peer().sentReliableCommands));
  EXPECT_EQ(front->roundTripTimeout, 52u);
  EXPECT_EQ(f.peer().nextTimeout, 1152u);
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 0u) << "nothing left to undo";
}

TEST(UndoBackoff, WhileNothingArrivesTheDoublingStands) {
  // The link is down: the last acknowledgement came before the resend. ENet's backoff is right.
  FakeHost f;
  f.peer().roundTripTime = 40;
  f.peer().roundTripTimeVariance = 3;
  f.sent(1100, 208, 3);
  f.peer().nextTimeout = 1308;
  f.peer().lastReceiveTime = 1100;  // not after the send
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 0u);
  f.peer().lastReceiveTime = 1050;
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1308u);
}

TEST(UndoBackoff, LeavesCommandsSentOnceAndTimeoutsNotAboveANewOnesAlone) {
  FakeHost f;
  f.peer().roundTripTime = 40;
  f.peer().roundTripTimeVariance = 3;
  f.sent(1100, 60, 1);  // never resent: its timeout is ENet's first
  f.sent(1101, 50, 2);  // resent, but its timeout is already below a new command's
  f.peer().nextTimeout = 1151;
  f.peer().lastReceiveTime = 1130;
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 0u);
  EXPECT_EQ(f.peer().nextTimeout, 1151u);
  f.peer().state = ENET_PEER_STATE_DISCONNECTED;
  f.sent(1102, 400, 4);
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 0u) << "a peer not in use is left alone";
}

TEST(UndoBackoff, NeverDelaysTheCheckAndHandlesTheClockWrapping) {
  FakeHost f;
  f.peer().roundTripTime = 40;
  f.peer().roundTripTimeVariance = 3;
  const enet_uint32 nearWrap = 0xFFFFFFF0u;
  f.sent(nearWrap, 104, 2);  // due at 0x58 after the wrap; undone: due at 0x24
  f.peer().lastReceiveTime = nearWrap + 0x20;  // 0x10 after the wrap
  f.peer().nextTimeout = nearWrap + 0x10;       // already earlier than anything: kept
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 1u);
  EXPECT_EQ(f.peer().nextTimeout, nearWrap + 0x10);
  f.sent(nearWrap + 0x20, 208, 3);
  f.peer().lastReceiveTime = nearWrap + 0x30;
  f.peer().nextTimeout = nearWrap + 0x20 + 208;
  EXPECT_EQ(undoBackoffWhileAcknowledged(f.host()), 1u);
  EXPECT_EQ(f.peer().nextTimeout, nearWrap + 0x20 + 52);
}

// ---- the handshake's first timeout (applyHandshakeTiming) ----------------------------------------

TEST(HandshakeTiming, TheLimitScalesSoTheHandshakeGivesUpWhenEnetsWould) {
  EXPECT_EQ(handshakeTimeoutLimit(100), kPeerTimeoutLimit * 5);   // 100 ms x 160 = 500 ms x 32
  EXPECT_EQ(handshakeTimeoutLimit(30), kPeerTimeoutLimit * 17);   // rounded up
  EXPECT_EQ(handshakeTimeoutLimit(500), kPeerTimeoutLimit);       // ENet's own guess
  EXPECT_EQ(handshakeTimeoutLimit(2000), kPeerTimeoutLimit);      // never lower than ENet's
  EXPECT_EQ(handshakeTimeoutLimit(0), kPeerTimeoutLimit);
}

// A peer slot as enet_peer_reset leaves it: free, with ENet's first round trip.
ENetPeer freshSlot() {
  ENetPeer peer{};
  peer.state = ENET_PEER_STATE_DISCONNECTED;
  peer.roundTripTime = ENET_PEER_DEFAULT_ROUND_TRIP_TIME;
  return peer;
}

TEST(HandshakeTiming, APrimedPeerStartsFromTheGuessAndGetsTheNormalLimitBackLater) {
  ENetPeer peer = freshSlot();
  peer.roundTripTimeVariance = 7;
  EXPECT_TRUE(needsHandshakeTiming(peer, 100));
  applyHandshakeTiming(peer, 100);
  EXPECT_EQ(peer.roundTripTime, 100u);
  EXPECT_EQ(peer.roundTripTimeVariance, 0u);  // the first timeout is the guess itself
  EXPECT_EQ(peer.timeoutLimit, kPeerTimeoutLimit * 5);
  EXPECT_EQ(peer.timeoutMinimum, kPeerTimeoutMinimumMs);
  EXPECT_EQ(peer.timeoutMaximum, kPeerTimeoutMaximumMs);
  EXPECT_FALSE(needsHandshakeTiming(peer, 100));
  applyPeerTimeouts(peer);  // once connected
  EXPECT_EQ(peer.timeoutLimit, kPeerTimeoutLimit);
  EXPECT_EQ(peer.roundTripTime, 100u);
}

TEST(HandshakeTiming, ZeroKeepsEnetsGuessAndOnlyFreeSlotsArePrimed) {
  ENetPeer peer = freshSlot();
  EXPECT_FALSE(needsHandshakeTiming(peer, 0));
  applyHandshakeTiming(peer, 0);
  EXPECT_EQ(peer.roundTripTime, static_cast<enet_uint32>(ENET_PEER_DEFAULT_ROUND_TRIP_TIME));
  EXPECT_EQ(peer.timeoutLimit, kPeerTimeoutLimit);
  peer.state = ENET_PEER_STATE_CONNECTED;
  EXPECT_FALSE(needsHandshakeTiming(peer, 100));  // a live peer's estimate is never touched
}

// ---- reading on within a server turn -----------------------------------------------------------

TEST(ReadingOn, EnetStopsAtAHandshakeOrADisconnectAndAfterAFullBatch) {
  EXPECT_TRUE(mayHaveStoppedReading(ENET_EVENT_TYPE_CONNECT, 1));
  EXPECT_TRUE(mayHaveStoppedReading(ENET_EVENT_TYPE_DISCONNECT, 3));
  EXPECT_TRUE(mayHaveStoppedReading(ENET_EVENT_TYPE_NONE, kEnetReceiveBatch));
  EXPECT_TRUE(mayHaveStoppedReading(ENET_EVENT_TYPE_RECEIVE, kEnetReceiveBatch));
  // Otherwise its receive loop ended on an empty socket (received packets wait in its queue).
  EXPECT_FALSE(mayHaveStoppedReading(ENET_EVENT_TYPE_RECEIVE, kEnetReceiveBatch - 1));
  EXPECT_FALSE(mayHaveStoppedReading(ENET_EVENT_TYPE_NONE, 0));
}

TEST(ReadingOn, AQueueAQuarterFullIsFilling) {
  EXPECT_FALSE(receiveQueueFilling(0, 524288));
  EXPECT_FALSE(receiveQueueFilling(131071, 524288));
  EXPECT_TRUE(receiveQueueFilling(131072, 524288));
  EXPECT_TRUE(receiveQueueFilling(600000, 524288));  // the kernel may overshoot by a datagram
  EXPECT_FALSE(receiveQueueFilling(4096, 0));        // unknown
}

}  // namespace
}  // namespace udpchat::enet
