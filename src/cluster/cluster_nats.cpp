#include "udpchat/cluster_nats.hpp"

#include <nats/nats.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "udpchat/secure_random.hpp"

namespace udpchat::cluster {

namespace {

constexpr const char* kOperationHeader = "KV-Operation";

std::string statusText(natsStatus status) {
  std::string out = natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && std::string_view(detail).find(out) == std::string_view::npos) {
    out += " (" + std::string(detail) + ")";
  }
  return out;
}

// What a person can change when the connection failed over TLS ("" for other failures).
std::string tlsHint(natsStatus status, const std::string& caFile) {
  if (status == NATS_SECURE_CONNECTION_WANTED) {
    return "; this NATS does not offer TLS: start nats-server with --tls, or use nats://";
  }
  if (status != NATS_SSL_ERROR) return "";
  if (caFile.empty()) {
    return "; if NATS's certificate is signed by a CA of your own, give its certificate with "
           "--cluster-ca FILE";
  }
  return "; is NATS's certificate signed by the CA in " + caFile +
         " and issued for the host in the URL?";
}

}  // namespace

struct NatsBus::State {
  NatsBusOptions options;
  ServerId id = 0;
  std::string prefix, logSubject, signalSubject, stream, bucket, kvStream, kvPrefix;
  std::string settingsBucket, settingsStream, settingsPrefix;
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* logSub = nullptr;
  natsSubscription* kvSub = nullptr;
  natsSubscription* settingsSub = nullptr;
  natsSubscription* signalSub = nullptr;
  int wake = -1;

  // How far NATS's threads are with this object: subscriptions whose handler is done for
  // good, and the connection's closed callback.
  std::mutex lifeMutex;
  std::condition_variable lifeCv;
  int subscriptionsWatched = 0;
  int subscriptionsDone = 0;
  bool closed = false;

  void watch(natsSubscription* sub) {
    if (natsSubscription_SetOnCompleteCB(sub, &State::onSubscriptionDone, this) == NATS_OK) {
      std::lock_guard lock(lifeMutex);
      ++subscriptionsWatched;
    }
  }
  static void onSubscriptionDone(void* closure) {
    auto* st = static_cast<State*>(closure);
    std::lock_guard lock(st->lifeMutex);
    ++st->subscriptionsDone;
    st->lifeCv.notify_all();
  }
  static void onClosed(natsConnection*, void* closure) {
    auto* st = static_cast<State*>(closure);
    std::lock_guard lock(st->lifeMutex);
    st->closed = true;
    st->lifeCv.notify_all();
  }

  std::mutex mutex;  // guards `ready`
  std::vector<BusEvent> ready;

  // The worker: JetStream writes, which wait for their answer, in the order asked.
  std::mutex workMutex;
  std::condition_variable workCv;
  std::deque<std::function<void()>> work;
  bool stopping = false;
  std::chrono::steady_clock::time_point drainUntil;
  std::thread worker;
  std::map<std::string, std::uint64_t> owned;  // the worker's: key -> revision written last
  bool appendsInFlight = false;                // the worker's: js_PublishMsgAsync since the last wait

  ~State() {
    {
      // What was asked last (a stopping server's users leaving) still goes, for a while.
      std::lock_guard lock(workMutex);
      stopping = true;
      drainUntil = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    }
    workCv.notify_all();
    if (worker.joinable()) worker.join();
    // NATS calls back from its own threads, and the callbacks use this object, so it goes only
    // once none can come any more (each wait bounded, for a NATS that does not answer).
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    if (js != nullptr) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = 1000;
      if (js_PublishAsyncComplete(js, &po) != NATS_OK) {
        // Unanswered appends: taken back, so their handler is not called after this.
        natsMsgList pending;
        if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) natsMsgList_Destroy(&pending);
      }
    }
    for (natsSubscription* sub : {logSub, kvSub, settingsSub, signalSub}) {
      if (sub != nullptr) natsSubscription_Unsubscribe(sub);
    }
    {
      // Each subscription's handler has returned for the last time.
      std::unique_lock lock(lifeMutex);
      lifeCv.wait_until(lock, until, [&] { return subscriptionsDone == subscriptionsWatched; });
    }
    for (natsSubscription* sub : {logSub, kvSub, settingsSub, signalSub}) {
      if (sub != nullptr) natsSubscription_Destroy(sub);
    }
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      // The connection's callbacks run in order on one thread; the closed one comes last.
      std::unique_lock lock(lifeMutex);
      lifeCv.wait_until(lock, until + std::chrono::milliseconds(1000), [&] { return closed; });
      lock.unlock();
      natsConnection_Destroy(nc);
    }
    if (opts != nullptr) natsOptions_Destroy(opts);
    if (wake >= 0) ::close(wake);
  }

  void push(BusEvent event) {
    {
      std::lock_guard lock(mutex);
      ready.push_back(std::move(event));
    }
    const std::uint64_t one = 1;
    static_cast<void>(::write(wake, &one, sizeof one));
  }

  void later(std::function<void()> job) {
    {
      std::lock_guard lock(workMutex);
      work.push_back(std::move(job));
    }
    workCv.notify_one();
  }

  void runWorker() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(workMutex);
        workCv.wait(lock, [&] { return stopping || !work.empty(); });
        if (work.empty() || (stopping && std::chrono::steady_clock::now() > drainUntil)) return;
        job = std::move(work.front());
        work.pop_front();
      }
      job();
    }
  }

  // ---- the worker's JetStream writes

  struct Written {
    natsStatus status = NATS_OK;
    jsErrCode code = static_cast<jsErrCode>(0);
    std::uint64_t sequence = 0;
    std::string error;
  };

  Written publish(const std::string& subject, const protocol::Bytes& data, bool deleteMarker,
                  std::uint64_t expectSubjectSeq, bool expectNone) {
    Written out;
    natsMsg* msg = nullptr;
    out.status = natsMsg_Create(&msg, subject.c_str(), nullptr,
                                reinterpret_cast<const char*>(data.data()),
                                static_cast<int>(data.size()));
    if (out.status == NATS_OK && deleteMarker) {
      out.status = natsMsgHeader_Set(msg, kOperationHeader, "DEL");
    }
    if (out.status == NATS_OK) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = options.requestTimeout;
      po.ExpectLastSubjectSeq = expectSubjectSeq;
      po.ExpectNoMessage = expectNone;
      jsPubAck* ack = nullptr;
      out.status = js_PublishMsg(&ack, js, msg, &po, &out.code);
      if (out.status == NATS_OK && ack != nullptr) out.sequence = ack->Sequence;
      if (ack != nullptr) jsPubAck_Destroy(ack);
    }
    if (out.status != NATS_OK) out.error = statusText(out.status);
    if (msg != nullptr) natsMsg_Destroy(msg);
    return out;
  }

  static bool wrongSequence(const Written& w) { return w.code == JSStreamWrongLastSequenceErr; }

  // The key's last revision if it is a deletion marker (the key is free), else 0.
  std::uint64_t freedAt(const std::string& subject) {
    natsMsg* last = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetLastMsg(&last, js, kvStream.c_str(), subject.c_str(), nullptr, &code) != NATS_OK) {
      return 0;
    }
    const char* operation = nullptr;
    std::uint64_t revision = 0;
    if (natsMsgHeader_Get(last, kOperationHeader, &operation) == NATS_OK && operation != nullptr &&
        (std::string_view(operation) == "DEL" || std::string_view(operation) == "PURGE")) {
      revision = natsMsg_GetSequence(last);
    }
    natsMsg_Destroy(last);
    return revision;
  }

  void doClaim(std::uint64_t tag, const std::string& key, const protocol::Bytes& record) {
    awaitAppends();
    const std::string subject = kvPrefix + key;
    Written w = publish(subject, record, false, 0, true);
    if (wrongSequence(w)) {
      // Held, or deleted since (its marker is the last message): then the marker's revision.
      if (const std::uint64_t revision = freedAt(subject); revision != 0) {
        w = publish(subject, record, false, revision, false);
      }
    }
    BusEvent event;
    event.tag = tag;
    event.key = key;
    if (w.status == NATS_OK) {
      owned[key] = w.sequence;
      event.kind = BusEvent::Kind::Claimed;
    } else {
      event.kind = BusEvent::Kind::ClaimFailed;
      event.taken = wrongSequence(w);
      event.reason = w.error;
    }
    push(std::move(event));
  }

  void lost(const std::string& key) {
    owned.erase(key);
    BusEvent event;
    event.kind = BusEvent::Kind::KeyLost;
    event.key = key;
    push(std::move(event));
  }

  void doPut(const std::string& key, const protocol::Bytes& record) {
    awaitAppends();
    auto it = owned.find(key);
    if (it == owned.end()) return lost(key);
    const Written w = publish(kvPrefix + key, record, false, it->second, false);
    if (w.status == NATS_OK) {
      it->second = w.sequence;
    } else if (wrongSequence(w)) {
      lost(key);
    }
    // Any other failure is the link's: the core writes its records again once it is back.
  }

  void doRemove(const std::string& key, std::uint64_t revision, const protocol::Bytes& record) {
    awaitAppends();
    auto it = owned.find(key);
    if (revision == 0) {
      if (it == owned.end()) return;
      revision = it->second;
    }
    const Written w = publish(kvPrefix + key, record, true, revision, false);
    if (w.status == NATS_OK || wrongSequence(w)) {
      if (it != owned.end()) owned.erase(it);
    }
  }

  // Appends are pipelined: several in flight, in the order asked (one connection keeps the
  // order, and JetStream numbers them as they arrive); the sequence comes back with the entry
  // through the subscription, a failure through onAppendFailed. Any other write first waits
  // for the appends before it, so the writes still take effect in the order the core asked.
  void doAppend(std::uint64_t tag, const protocol::Bytes& entry) {
    natsMsg* msg = nullptr;
    natsStatus status = natsMsg_Create(&msg, logSubject.c_str(), nullptr,
                                       reinterpret_cast<const char*>(entry.data()),
                                       static_cast<int>(entry.size()));
    if (status == NATS_OK) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = options.requestTimeout;
      status = js_PublishMsgAsync(js, &msg, &po);
    }
    natsMsg_Destroy(msg);  // nothing if the library took it
    if (status == NATS_OK) {
      appendsInFlight = true;
      return;
    }
    appendFailed(tag, statusText(status));
  }

  void appendFailed(std::uint64_t tag, std::string reason) {
    BusEvent event;
    event.kind = BusEvent::Kind::AppendFailed;
    event.tag = tag;
    event.reason = std::move(reason);
    push(std::move(event));
  }

  void awaitAppends() {
    if (!appendsInFlight) return;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options.requestTimeout;
    // A timeout here is reported per append, through onAppendFailed.
    static_cast<void>(js_PublishAsyncComplete(js, &po));
    appendsInFlight = false;
  }

  // NATS's thread: JetStream refused an append, or its acknowledgement did not come in time.
  // The entry carries its tag.
  static void onAppendFailed(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* st = static_cast<State*>(closure);
    if (pae == nullptr || pae->Msg == nullptr) return;
    auto entry = decodeLogEntry(dataOf(pae->Msg));
    if (!entry) return;
    std::string reason = pae->ErrText != nullptr && *pae->ErrText != '\0'
                             ? std::string(pae->ErrText)
                             : std::string(natsStatus_GetText(pae->Err));
    st->appendFailed(entry.value().tag, std::move(reason));
  }

  void doSetting(const std::string& key, const protocol::Bytes& setting, bool deleted) {
    awaitAppends();
    // Last writer wins: no expected revision. A failure is the link's; the core refuses
    // setting changes while the link is down, and the value held in memory stays.
    static_cast<void>(publish(settingsPrefix + key, setting, deleted, 0, false));
  }

  // ---- NATS's threads

  static protocol::Bytes dataOf(natsMsg* msg) {
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    return protocol::Bytes(data, data + natsMsg_GetDataLength(msg));
  }

  static std::uint64_t streamSequence(natsMsg* msg) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) return 0;
    const std::uint64_t sequence = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    return sequence;
  }

  static void onLog(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* st = static_cast<State*>(closure);
    BusEvent event;
    event.kind = BusEvent::Kind::Logged;
    event.sequence = streamSequence(msg);
    event.data = dataOf(msg);
    natsMsg_Destroy(msg);
    if (event.sequence != 0) st->push(std::move(event));
  }

  static void onDirectory(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* st = static_cast<State*>(closure);
    const std::string subject = natsMsg_GetSubject(msg);
    BusEvent event;
    event.sequence = streamSequence(msg);
    if (subject.rfind(st->kvPrefix, 0) == 0 && event.sequence != 0) {
      event.key = subject.substr(st->kvPrefix.size());
      const char* operation = nullptr;
      const bool deleted = natsMsgHeader_Get(msg, kOperationHeader, &operation) == NATS_OK &&
                           operation != nullptr;
      event.kind = deleted ? BusEvent::Kind::DirectoryDeleted : BusEvent::Kind::DirectoryPut;
      event.data = dataOf(msg);
      st->push(std::move(event));
    }
    natsMsg_Destroy(msg);
  }

  static void onSettings(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* st = static_cast<State*>(closure);
    const std::string subject = natsMsg_GetSubject(msg);
    if (subject.rfind(st->settingsPrefix, 0) == 0) {
      BusEvent event;
      event.key = subject.substr(st->settingsPrefix.size());
      const char* operation = nullptr;
      const bool deleted = natsMsgHeader_Get(msg, kOperationHeader, &operation) == NATS_OK &&
                           operation != nullptr;
      event.kind = deleted ? BusEvent::Kind::SettingDeleted : BusEvent::Kind::SettingPut;
      if (!deleted) event.data = dataOf(msg);
      st->push(std::move(event));
    }
    natsMsg_Destroy(msg);
  }

  static void onSignal(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* st = static_cast<State*>(closure);
    BusEvent event;
    event.kind = BusEvent::Kind::Signal;
    event.data = dataOf(msg);
    natsMsg_Destroy(msg);
    st->push(std::move(event));
  }

  static void onDisconnected(natsConnection*, void* closure) {
    BusEvent event;
    event.kind = BusEvent::Kind::LinkLost;
    event.reason = "disconnected from NATS";
    static_cast<State*>(closure)->push(std::move(event));
  }

  static void onReconnected(natsConnection*, void* closure) {
    BusEvent event;
    event.kind = BusEvent::Kind::LinkRestored;
    static_cast<State*>(closure)->push(std::move(event));
  }
};

namespace {

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw NatsBusError(what + ": " + statusText(status));
}

}  // namespace

NatsBus::NatsBus(NatsBusOptions options) : state_(std::make_unique<State>()) {
  State& st = *state_;
  if (auto problem = clusterNameProblem(options.clusterName)) {
    throw NatsBusError("--cluster-name: " + *problem);
  }
  st.options = std::move(options);
  const NatsBusOptions& o = st.options;
  do {
    st.id = secureRandom64();
  } while (st.id == 0);
  st.prefix = "udpchat." + o.clusterName;
  st.logSubject = st.prefix + ".log";
  st.signalSubject = st.prefix + ".signal";
  st.stream = "udpchat-" + o.clusterName + "-log";
  st.bucket = "udpchat-" + o.clusterName + "-users";
  st.kvStream = "KV_" + st.bucket;
  st.kvPrefix = "$KV." + st.bucket + ".";
  st.settingsBucket = "udpchat-" + o.clusterName + "-settings";
  st.settingsStream = "KV_" + st.settingsBucket;
  st.settingsPrefix = "$KV." + st.settingsBucket + ".";
  st.wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (st.wake < 0) throw NatsBusError("cannot create an eventfd");

  check(natsOptions_Create(&st.opts), "NATS options");
  check(natsOptions_SetURL(st.opts, o.url.c_str()), "NATS URL '" + o.url + "'");
  const std::string name = "udpchat-server " + o.serverName;
  natsOptions_SetName(st.opts, name.c_str());
  natsOptions_SetTimeout(st.opts, o.connectTimeout);
  natsOptions_SetAllowReconnect(st.opts, true);
  natsOptions_SetMaxReconnect(st.opts, -1);
  natsOptions_SetReconnectWait(st.opts, 250);
  // A NATS server that stops answering is noticed within about three seconds.
  natsOptions_SetPingInterval(st.opts, 1000);
  natsOptions_SetMaxPingsOut(st.opts, 2);
  natsOptions_SetDisconnectedCB(st.opts, &State::onDisconnected, &st);
  natsOptions_SetReconnectedCB(st.opts, &State::onReconnected, &st);
  natsOptions_SetClosedCB(st.opts, &State::onClosed, &st);
  if (o.url.rfind("tls://", 0) == 0) check(natsOptions_SetSecure(st.opts, true), "TLS");
  if (!o.caFile.empty()) {
    check(natsOptions_LoadCATrustedCertificates(st.opts, o.caFile.c_str()),
          "the CA certificate " + o.caFile);
  }
  if (!o.credsFile.empty()) {
    check(natsOptions_SetUserCredentialsFromFiles(st.opts, o.credsFile.c_str(), nullptr),
          "the credentials file " + o.credsFile);
  }
  if (!o.user.empty()) {
    check(natsOptions_SetUserInfo(st.opts, o.user.c_str(), o.password.c_str()), "NATS user");
  }
  if (natsStatus s = natsConnection_Connect(&st.nc, st.opts); s != NATS_OK) {
    throw NatsBusError("cannot reach NATS at " + o.url + ": " + statusText(s) +
                       tlsHint(s, o.caFile));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = o.requestTimeout;
  jo.PublishAsync.ErrHandler = &State::onAppendFailed;
  jo.PublishAsync.ErrHandlerClosure = &st;
  jo.PublishAsync.MaxPending = 1024;
  check(natsConnection_JetStream(&st.js, st.nc, &jo), "JetStream");

  // The log: kept on disk by NATS, one subject, in the order JetStream gave.
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&info, st.js, st.stream.c_str(), nullptr, &code) != NATS_OK) {
    if (code != JSStreamNotFoundErr) {
      throw NatsBusError("NATS at " + o.url +
                         " does not answer JetStream requests; start nats-server with JetStream "
                         "enabled (nats-server -js)");
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = st.stream.c_str();
    const char* subjects[] = {st.logSubject.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.MaxMsgs = o.logMaxMessages;
    if (natsStatus s = js_AddStream(&info, st.js, &cfg, nullptr, &code); s != NATS_OK) {
      throw NatsBusError("cannot create the stream " + st.stream + " on NATS at " + o.url + ": " +
                         statusText(s));
    }
  }
  if (info != nullptr) jsStreamInfo_Destroy(info);

  // The directory: one value per key, on disk.
  kvStore* kv = nullptr;
  kvConfig kc;
  kvConfig_Init(&kc);
  kc.Bucket = st.bucket.c_str();
  kc.History = 1;
  kc.StorageType = js_FileStorage;
  check(js_CreateKeyValue(&kv, st.js, &kc), "the key-value bucket " + st.bucket);
  kvStore_Destroy(kv);
  // The settings (accounts, bans): one value per key, on disk, kept until deleted.
  kvConfig sc;
  kvConfig_Init(&sc);
  sc.Bucket = st.settingsBucket.c_str();
  sc.History = 1;
  sc.StorageType = js_FileStorage;
  check(js_CreateKeyValue(&kv, st.js, &sc), "the key-value bucket " + st.settingsBucket);
  kvStore_Destroy(kv);

  st.worker = std::thread([&st] { st.runWorker(); });

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Stream = st.stream.c_str();
  if (o.startSequence != 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = o.startSequence;
  } else {
    so.Config.DeliverPolicy = js_DeliverNew;
  }
  check(js_Subscribe(&st.logSub, st.js, st.logSubject.c_str(), &State::onLog, &st, nullptr, &so,
                     &code),
        "subscribing to the log");
  st.watch(st.logSub);
  jsSubOptions kvo;
  jsSubOptions_Init(&kvo);
  kvo.Ordered = true;
  kvo.Stream = st.kvStream.c_str();
  kvo.Config.DeliverPolicy = js_DeliverLastPerSubject;
  const std::string everyKey = st.kvPrefix + ">";
  check(js_Subscribe(&st.kvSub, st.js, everyKey.c_str(), &State::onDirectory, &st, nullptr, &kvo,
                     &code),
        "watching the directory");
  st.watch(st.kvSub);
  jsSubOptions sso;
  jsSubOptions_Init(&sso);
  sso.Ordered = true;
  sso.Stream = st.settingsStream.c_str();
  sso.Config.DeliverPolicy = js_DeliverLastPerSubject;
  const std::string everySetting = st.settingsPrefix + ">";
  check(js_Subscribe(&st.settingsSub, st.js, everySetting.c_str(), &State::onSettings, &st,
                     nullptr, &sso, &code),
        "watching the settings");
  st.watch(st.settingsSub);
  check(natsConnection_Subscribe(&st.signalSub, st.nc, st.signalSubject.c_str(),
                                 &State::onSignal, &st),
        "subscribing to signals");
  st.watch(st.signalSub);
}

NatsBus::~NatsBus() = default;

NatsLibrary::~NatsLibrary() {
  // NATS_TIMEOUT: a thread still ends later; nothing more can be done at exit than to wait.
  static_cast<void>(nats_CloseAndWait(3000));
}

int NatsBus::wakeFd() const { return state_->wake; }
std::string NatsBus::subjectPrefix() const { return state_->prefix; }
ServerId NatsBus::serverId() const { return state_->id; }

void NatsBus::append(std::uint64_t tag, protocol::Bytes entry) {
  State* st = state_.get();
  st->later([st, tag, entry = std::move(entry)] { st->doAppend(tag, entry); });
}

void NatsBus::claim(std::uint64_t tag, std::string key, protocol::Bytes record) {
  State* st = state_.get();
  st->later([st, tag, key = std::move(key), record = std::move(record)] {
    st->doClaim(tag, key, record);
  });
}

void NatsBus::put(std::string key, protocol::Bytes record) {
  State* st = state_.get();
  st->later([st, key = std::move(key), record = std::move(record)] { st->doPut(key, record); });
}

void NatsBus::remove(std::string key, std::uint64_t revision, protocol::Bytes record) {
  State* st = state_.get();
  st->later([st, key = std::move(key), revision, record = std::move(record)] {
    st->doRemove(key, revision, record);
  });
}

void NatsBus::putSetting(std::string key, protocol::Bytes setting) {
  State* st = state_.get();
  st->later([st, key = std::move(key), setting = std::move(setting)] {
    st->doSetting(key, setting, false);
  });
}

void NatsBus::deleteSetting(std::string key) {
  State* st = state_.get();
  st->later([st, key = std::move(key)] { st->doSetting(key, {}, true); });
}

void NatsBus::signal(protocol::Bytes bytes) {
  // Buffered by the client, also while reconnecting; never waits.
  natsConnection_Publish(state_->nc, state_->signalSubject.c_str(), bytes.data(),
                         static_cast<int>(bytes.size()));
}

void NatsBus::poll(std::vector<BusEvent>& out) {
  State& st = *state_;
  std::uint64_t count = 0;
  static_cast<void>(::read(st.wake, &count, sizeof count));
  std::lock_guard lock(st.mutex);
  if (out.empty()) {
    out.swap(st.ready);
  } else {
    for (auto& e : st.ready) out.push_back(std::move(e));
    st.ready.clear();
  }
}

}  // namespace udpchat::cluster
