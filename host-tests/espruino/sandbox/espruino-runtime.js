// The Espruino side of the sandbox (see README.md): run inside a fresh node:vm context before anything else,
// it makes the context's globals what Espruino 2v2x offers on an ESP32/ESP8266 and nothing more. `host` (the
// only argument) is the bridge to the Node side: primitives go across, and host calls come back through
// the object this script returns. Written with only what it leaves behind, since its functions run after
// the deletions at the end.
(function (host, config) {
  "use strict";
  var global = Function("return this")();

  /** Espruino prints an uncaught exception and carries on; here the host records it (a test fails on it). */
  function guard(fn, args) {
    try {
      return fn.apply(undefined, args);
    } catch (error) {
      host.uncaught(error && error.stack ? String(error.stack) : String(error));
      return undefined;
    }
  }

  // ---- memory: process.memory() counts what the sandbox can see of Espruino's variables ----

  // Each typed array made with a length is an ArrayBuffer backed by one flat string: a header variable,
  // ceil(bytes / variable size) data variables, the ArrayBuffer and the view (see boards/espruino/profile.ts).
  var allocatedVariables = 0;
  var NativeUint8Array = Uint8Array;
  class SandboxUint8Array extends NativeUint8Array {
    constructor(a, b, c) {
      if (typeof a === "number") {
        super(a);
        allocatedVariables += host.bufferVariables(a);
      } else if (b === undefined) {
        super(a);
      } else if (c === undefined) {
        super(a, b);
      } else {
        super(a, b, c);
      }
    }
  }
  Object.defineProperty(SandboxUint8Array, "name", { value: "Uint8Array" });

  var timers = {};
  var nextTimer = 1;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn === "string") {
      var code = fn;
      fn = function () { global.eval(code); };
    }
    if (typeof fn !== "function") {
      throw new TypeError("Function or String not supplied!");
    }
    var id = nextTimer++;
    var delay = ms > 0 ? ms : 0;
    timers[id] = host.setTimer(function () {
      if (!repeat) {
        delete timers[id];
      }
      guard(fn, args);
    }, delay, repeat);
    return id;
  }
  function removeTimer(id) {
    if (id === undefined) {
      // Espruino: with no id, every timeout and interval of the application is stopped.
      for (var key in timers) {
        host.clearTimer(timers[key]);
        delete timers[key];
      }
      return;
    }
    if (!(id in timers)) {
      throw new Error("Unknown Timeout");
    }
    host.clearTimer(timers[id]);
    delete timers[id];
  }
  function restArgs(args, from) {
    var rest = [];
    for (var i = from; i < args.length; i++) rest.push(args[i]);
    return rest;
  }

  // ---- events, as Espruino's objects have them: obj.on(name, fn), emitted by the interpreter ----

  function addEvents(target) {
    var listeners = {};
    target.on = function (name, fn) {
      if (!(name in listeners)) listeners[name] = [];
      listeners[name].push(fn);
    };
    target.removeAllListeners = function (name) {
      if (name === undefined) listeners = {};
      else delete listeners[name];
    };
    target.emit = function (name) {
      var list = listeners[name];
      if (list === undefined) return;
      var args = restArgs(arguments, 1);
      for (var i = 0; i < list.length; i++) guard(list[i], args);
    };
    return target;
  }

  // ---- sockets: net and tls, bridged by the host to real TCP ----

  var SOCKET_ERRORS = {
    "-1": "socket closed", "-2": "out of memory", "-3": "timeout", "-4": "no route", "-5": "busy",
    "-6": "not found", "-7": "max sockets", "-8": "unsent data", "-9": "connection reset", "-10": "unknown",
    "-11": "no connection", "-12": "bad argument", "-13": "SSL handshake failed", "-14": "invalid SSL data",
  };
  var sockets = {};
  var nextSocket = 1;

  /** What Espruino sends for socket.write(data): a string as its characters, anything else as its text. */
  function wireText(data) {
    if (typeof data === "string") return data;
    if (data instanceof NativeUint8Array || Array.isArray(data)) {
      // An array or typed array becomes its decimal text, "1,2,3" (jsvAsString), not its bytes.
      var text = "";
      for (var i = 0; i < data.length; i++) text += (i > 0 ? "," : "") + data[i];
      return text;
    }
    return String(data);
  }

  /** networkGetFromVarIfOnline: every socket call throws while the station has no network. */
  function requireOnline() {
    if (wifi !== null && wifi.status !== "connected") {
      throw new Error("Not connected to the internet");
    }
  }

  /** url.parse's host and port, for net.connect("host:port"). */
  function parseAddress(text) {
    var rest = text.indexOf("//") >= 0 ? text.substr(text.indexOf("//") + 2) : text;
    var slash = rest.indexOf("/");
    if (slash >= 0) rest = rest.substr(0, slash);
    var colon = rest.indexOf(":");
    return colon < 0 ? { host: rest } : { host: rest.substr(0, colon), port: parseInt(rest.substr(colon + 1), 10) };
  }

  function makeSocketModule(tls) {
    return {
      connect: function (options, callback) {
        if (typeof options === "string") options = parseAddress(options);
        if (typeof options !== "object" || options === null) {
          // jsError: printed, and the call returns undefined.
          host.print("ERROR: Expecting Options to be an Object but it was " + typeof options);
          return undefined;
        }
        requireOnline();
        var id = nextSocket++;
        var socket = addEvents({});
        var open = true;
        socket.write = function (data) {
          requireOnline();
          if (open) host.socketWrite(id, wireText(data));
          // "For node.js compatibility, returns the boolean false"; a drain event follows.
          return false;
        };
        socket.end = function (data) {
          requireOnline();
          if (data !== undefined) socket.write(data);
          if (open) {
            open = false;
            host.socketEnd(id);
          }
        };
        sockets[id] = { socket: socket, connected: callback, hadError: false, closed: function () { open = false; } };
        host.socketConnect(id, String(options.host), options.port === undefined ? (tls ? 443 : 80) : options.port, tls,
          options.ca === undefined ? null : options.ca, options.key === undefined ? null : options.key,
          options.cert === undefined ? null : options.cert);
        return socket;
      },
    };
  }

  /**
   * The host reports a socket event: "connect", "data" (a binary string), "drain", "end", "error" (a code),
   * "close".
   */
  function socketEvent(id, event, value) {
    var entry = sockets[id];
    if (entry === undefined) return;
    var socket = entry.socket;
    if (event === "connect") {
      if (typeof entry.connected === "function") guard(entry.connected, [socket]);
    } else if (event === "error") {
      entry.hadError = true;
      socket.emit("error", { code: value, message: SOCKET_ERRORS[String(value)] });
    } else if (event === "close") {
      entry.closed();
      delete sockets[id];
      socket.emit("close", entry.hadError);
    } else if (event === "data") {
      socket.emit("data", value);
    } else {
      socket.emit(event);
    }
  }

  // ---- Storage: files in flash, named with at most 28 characters ----

  var files = {};
  function checkName(name) {
    if (typeof name !== "string" || name.length === 0 || name.length > 28) {
      throw new Error("File name too long, or empty: " + name);
    }
  }
  var Storage = {
    read: function (name, offset, length) {
      if (!(name in files)) return undefined;
      var text = files[name];
      var from = offset === undefined ? 0 : offset;
      return text.substr(from, length === undefined ? text.length - from : length);
    },
    readJSON: function (name, noExceptions) {
      var text = Storage.read(name);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text);
      } catch (error) {
        if (noExceptions) return undefined;
        throw error;
      }
    },
    readArrayBuffer: function (name) {
      var text = Storage.read(name);
      if (text === undefined) return undefined;
      var bytes = new NativeUint8Array(text.length);
      for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      return bytes.buffer;
    },
    write: function (name, data, offset, size) {
      checkName(name);
      var text = wireText(data);
      if (offset === undefined || offset === 0) {
        // A first part with a size reserves the whole file (erased flash reads as 0xFF).
        var whole = text;
        if (size !== undefined) while (whole.length < size) whole += "\xFF";
        files[name] = whole;
      } else {
        var old = files[name];
        files[name] = old.substr(0, offset) + text + old.substr(offset + text.length);
      }
      return true;
    },
    writeJSON: function (name, data) {
      return Storage.write(name, JSON.stringify(data));
    },
    erase: function (name) {
      delete files[name];
    },
    list: function (pattern) {
      var names = [];
      for (var name in files) {
        if (pattern === undefined || (typeof pattern === "string" ? name === pattern : pattern.test(name))) names.push(name);
      }
      return names;
    },
    getFree: function () {
      return config.storageFree;
    },
  };

  // ---- Wifi: the station interface, driven by the host's access point ----

  var wifi = null;
  if (config.wifi) {
    wifi = { status: "off" };
    wifi.ssid = "";
    wifi.password = "";
    wifi.hostname = config.board.toLowerCase();
    var IP = { ip: "192.168.4.23", netmask: "255.255.255.0", gw: "192.168.4.1", mac: "24:0a:c4:00:00:01" };
    var AP_MAC = "24:0a:c4:00:ff:01";
    /** A callback with `args` on a later turn, as the radio's events come. */
    var later = function (callback, args) {
      if (typeof callback === "function") host.setTimer(function () { guard(callback, args); }, 0, false);
    };
    wifi.api = addEvents({
      connect: function (ssid, options, callback) {
        var password = options && options.password !== undefined ? options.password : "";
        // "if the passed SSID and password are identical to the currently connected AP then nothing is
        // changed", and the callback is still invoked.
        if (wifi.status === "connected" && ssid === wifi.ssid && password === wifi.password) {
          later(callback, [null]);
          return;
        }
        if (wifi.status === "connected") lose("assoc_leave", "connecting");
        wifi.ssid = ssid;
        wifi.password = password;
        wifi.callback = callback;
        wifi.status = "connecting";
        host.setTimer(function () { attemptJoin(); }, config.wifi.joinMs, false);
      },
      disconnect: function (callback) {
        if (wifi.status === "connected") lose("assoc_leave", "off");
        wifi.status = "off";
        wifi.callback = undefined;
        later(callback, []);
      },
      getIP: function (callback) {
        // "the ip, netmask, and gw fields are omitted if no connection is established"
        var details = wifi.status === "connected" ? { ip: IP.ip, netmask: IP.netmask, gw: IP.gw, mac: IP.mac } :
          { mac: IP.mac };
        later(callback, [details]);
        return details;
      },
      getDetails: function (callback) {
        var details = { status: wifi.status, rssi: wifi.status === "connected" ? -58 : 0, ssid: wifi.ssid,
          password: wifi.password, authMode: "wpa2", savedSsid: null };
        later(callback, [details]);
        return details;
      },
      getStatus: function (callback) {
        var details = { station: wifi.status, ap: "disabled", mode: wifi.status === "off" ? "off" : "sta",
          phy: "11n", powersave: "none", savedMode: "off" };
        later(callback, [details]);
        return details;
      },
      getHostname: function (callback) {
        later(callback, [wifi.hostname]);
        return wifi.hostname;
      },
      setHostname: function (hostname, callback) {
        wifi.hostname = hostname;
        later(callback, []);
      },
    });
    /** The station leaves its access point: its sockets break, and `disconnected` is emitted. */
    var lose = function (reason, status) {
      wifi.status = status;
      host.networkDown();
      wifi.api.emit("disconnected", { ssid: wifi.ssid, mac: AP_MAC, reason: reason });
    };
    /**
     * One join attempt: a wrong password is reported ("the only error reported in the callback"); an access
     * point out of range leaves the status no_ap_found, and the radio tries again when it is back.
     */
    var attemptJoin = function () {
      if (wifi.status !== "connecting" && wifi.status !== "no_ap_found") return;
      var password = host.accessPoint(wifi.ssid);
      if (password === null) {
        wifi.status = "no_ap_found";
        return;
      }
      var callback = wifi.callback;
      if (password !== wifi.password) {
        wifi.status = "wrong_password";
        if (typeof callback === "function") guard(callback, ["Bad password"]);
        return;
      }
      wifi.status = "connected";
      wifi.api.emit("associated", { ssid: wifi.ssid, mac: AP_MAC, channel: 6 });
      wifi.api.emit("connected", { ip: IP.ip, netmask: IP.netmask, gw: IP.gw });
      if (typeof callback === "function") guard(callback, [null]);
    };
  }

  /** The access point went away (or came back): the station loses its link, or joins it if trying. */
  function accessPointChanged(up) {
    if (wifi === null) return;
    if (!up && wifi.status === "connected") {
      lose("beacon_timeout", "no_ap_found");
    } else if (up) {
      attemptJoin();
    }
  }

  // ---- require: Espruino's built-in modules, then modules saved in Storage ----

  var netModule = makeSocketModule(false);
  var tlsModule = makeSocketModule(true);
  var loaded = {};
  function require(name) {
    if (typeof name !== "string") throw new TypeError("Expecting a module name as a string, but got " + typeof name);
    if (name === "net") return netModule;
    if (name === "tls") return tlsModule;
    if (name === "Storage") return Storage;
    if (name === "Wifi" && wifi !== null) return wifi.api;
    if (name in loaded) return loaded[name];
    if (!(name in files)) throw new Error("Module " + JSON.stringify(name) + " not found");
    // jspEvaluateModule: the text runs with `exports` and `module` in scope, and exports is the module.
    var module = { exports: {} };
    host.compileModule(name, files[name])(module.exports, module);
    loaded[name] = module.exports;
    return module.exports;
  }

  function printed(args) {
    var line = "";
    for (var i = 0; i < args.length; i++) {
      var value = args[i];
      line += (i > 0 ? " " : "") + (typeof value === "string" ? value : JSON.stringify(value));
    }
    host.print(line);
  }

  // ---- the globals ----

  global.require = require;
  global.Uint8Array = SandboxUint8Array;
  global.getTime = function () { return host.now() / 1000; };
  global.setTimeout = function (fn, ms) { return addTimer(fn, ms, restArgs(arguments, 2), false); };
  global.setInterval = function (fn, ms) { return addTimer(fn, ms, restArgs(arguments, 2), true); };
  global.clearTimeout = removeTimer;
  global.clearInterval = removeTimer;
  global.print = function () { printed(arguments); };
  global.console = { log: function () { printed(arguments); } };
  global.E = {
    /** A flat string of the bytes of its arguments (typed arrays, arrays, numbers, strings). */
    toString: function () {
      var text = "";
      for (var a = 0; a < arguments.length; a++) {
        var value = arguments[a];
        if (typeof value === "string") text += value;
        else if (typeof value === "number") text += String.fromCharCode(value & 255);
        else for (var i = 0; i < value.length; i++) text += String.fromCharCode(value[i] & 255);
      }
      return text;
    },
    toUint8Array: function () {
      var text = global.E.toString.apply(undefined, arguments);
      var bytes = new SandboxUint8Array(text.length);
      for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      return bytes;
    },
  };
  var BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  /** Base64 to a binary string (one character per byte), as the Espruino tools' Storage uploads use it. */
  global.atob = function (text) {
    var out = "";
    var bits = 0;
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = BASE64.indexOf(text.charAt(i));
      if (digit < 0) continue; // padding
      value = (value << 6) | digit;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((value >> bits) & 255);
      }
    }
    return out;
  };
  global.btoa = function (binary) {
    var out = "";
    for (var i = 0; i < binary.length; i += 3) {
      var n = (binary.charCodeAt(i) << 16) | ((binary.charCodeAt(i + 1) || 0) << 8) | (binary.charCodeAt(i + 2) || 0);
      out += BASE64.charAt(n >> 18) + BASE64.charAt((n >> 12) & 63) +
        (i + 1 < binary.length ? BASE64.charAt((n >> 6) & 63) : "=") + (i + 2 < binary.length ? BASE64.charAt(n & 63) : "=");
    }
    return out;
  };
  /** Restarts the interpreter and runs the boot files from Storage (here: .boot0). */
  global.load = function () {
    removeTimer(undefined);
    host.load();
  };
  global.process = {
    version: config.version,
    env: { VERSION: config.version, BOARD: config.board },
    memory: function () {
      var usage = config.baseVariables + allocatedVariables;
      return { free: config.variables - usage, usage: usage, total: config.variables, history: 0,
        gc: 0, gctime: 0, blocksize: config.variableBytes };
    },
  };

  // Espruino queues a rejection as an event; at that event a promise with no rejection handler raises
  // "Unhandled promise rejection: VALUE" as an uncaught error (jswrap_promise.c). Promise.reject does the same
  // here on the next timer turn (a promise rejected in any other way is not imitated: see README.md).
  var nativeReject = Promise.reject;
  Promise.reject = function (value) {
    var promise = nativeReject.call(Promise, value);
    var nativeThen = promise.then;
    var handled = false;
    promise.then = function (onFulfilled, onRejected) {
      if (typeof onRejected === "function") handled = true;
      return nativeThen.call(promise, onFulfilled, onRejected);
    };
    promise.catch = function (onRejected) { return promise.then(undefined, onRejected); };
    // Node is not to report it: whether it was handled is Espruino's check below.
    nativeThen.call(promise, undefined, function () {});
    host.setTimer(function () {
      if (!handled) host.uncaught("Unhandled promise rejection: " + String(value));
    }, 0, false);
    return promise;
  };

  // What Espruino lacks (DESIGN.md, "The portable subset"): gone from this context.
  var missing = ["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol", "Proxy", "Reflect",
    "SharedArrayBuffer", "Atomics", "WebAssembly", "Intl", "BigInt", "BigInt64Array", "BigUint64Array",
    "AggregateError", "globalThis"];
  for (var m = 0; m < missing.length; m++) delete global[missing[m]];
  delete Array.from;
  delete Array.of;
  delete Promise.race;
  delete Promise.any;
  delete Promise.allSettled;
  delete Promise.prototype.finally;
  var typedArrayPrototype = Object.getPrototypeOf(NativeUint8Array.prototype);
  var arrayMethods = config.arrayMethods;
  for (var k = 0; k < arrayMethods.length; k++) {
    delete Array.prototype[arrayMethods[k]];
    delete typedArrayPrototype[arrayMethods[k]];
  }

  return {
    socketEvent: function (id, event, value) { socketEvent(id, event, value); },
    accessPointChanged: accessPointChanged,
    writeFile: function (name, text) { Storage.write(name, text); },
    readFile: function (name) { return Storage.read(name); },
    stopTimers: function () { removeTimer(undefined); },
  };
});
