// minikube-lite live map: regions -> zones -> nodes -> pods, claims -> volumes -> cloud disks,
// snapshots -> contents -> cloud snapshots, attachments and events, kept current by the
// Kubernetes watch API (list, then watch from its resourceVersion; list again on 410 Gone).
// Watches run over WebSockets: a browser keeps at most six HTTP/1.1 connections per server, so
// nine chunked watch streams would starve each other. Read-only: it never writes to the API.
(function () {
  "use strict";

  var TOKEN = window.MINIKUBE_LITE_TOKEN || "";
  var WS_BEARER = "base64url.bearer.authorization.k8s.io.";
  var MAX_EVENTS = 200;          // shown in the timeline
  var MAX_KEPT_EVENTS = 2000;    // kept in memory; the oldest go first
  var POD_CHIPS_PER_NODE = 60;
  var RETRY_MS = 1000;

  // What the map watches: key -> list path. A group the server does not serve is skipped.
  var RESOURCES = {
    nodes: "/api/v1/nodes",
    pods: "/api/v1/pods",
    pvcs: "/api/v1/persistentvolumeclaims",
    pvs: "/api/v1/persistentvolumes",
    storageclasses: "/apis/storage.k8s.io/v1/storageclasses",
    volumeattachments: "/apis/storage.k8s.io/v1/volumeattachments",
    volumesnapshots: "/apis/snapshot.storage.k8s.io/v1/volumesnapshots",
    volumesnapshotcontents: "/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents",
    events: "/api/v1/events"
  };
  // Changes of these kinds may change the cloud side (disks made, attached, snapshotted).
  var CLOUD_RELEVANT = { pvs: 1, volumeattachments: 1, volumesnapshotcontents: 1, volumesnapshots: 1, pvcs: 1 };

  var state = {
    objects: {},          // resource -> Map(key -> object)
    synced: {},           // resource -> true once listed
    cloud: { zones: [], disks: [], snapshots: [], instances: [], served: true },
    selected: null,       // {kind: "pod"|"node", key}
    why: null,            // last why-pending answer for the selected pod
    whyError: ""
  };
  Object.keys(RESOURCES).forEach(function (r) { state.objects[r] = new Map(); });

  // ------------------------------------------------------------------ helpers

  function headers() { return TOKEN ? { Authorization: "Bearer " + TOKEN } : {}; }
  function getJSON(path) {
    return fetch(path, { headers: headers() }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; },
        function () { return { status: r.status, body: null }; });
    });
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function md(o) { return (o && o.metadata) || {}; }
  function keyOf(o) { var m = md(o); return (m.namespace ? m.namespace + "/" : "") + m.name; }
  function labels(o) { return md(o).labels || {}; }
  function ann(o) { return md(o).annotations || {}; }
  function list(r) { return Array.from(state.objects[r].values()); }
  function byName(a, b) { return keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0; }
  function b64url(s) {
    return btoa(unescape(encodeURIComponent(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function zoneOf(l) {
    return l["topology.kubernetes.io/zone"] || l["failure-domain.beta.kubernetes.io/zone"] || "";
  }
  function regionOf(l) {
    return l["topology.kubernetes.io/region"] || l["failure-domain.beta.kubernetes.io/region"] || "";
  }
  function memory(q) {
    if (!q) return "";
    var m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
    if (!m) return q;
    var f = { Ki: 1024, Mi: 1048576, Gi: 1073741824, Ti: 1099511627776, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] || 1;
    return (parseFloat(m[1]) * f / 1073741824).toFixed(1) + "Gi";
  }
  function podPhase(p) {
    if (md(p).deletionTimestamp) return "Terminating";
    return (p.status && p.status.phase) || "Pending";
  }
  function eventTime(e) {
    return e.lastTimestamp || e.eventTime || (e.series && e.series.lastObservedTime) || e.firstTimestamp ||
      md(e).creationTimestamp || "";
  }

  // ------------------------------------------------------------------ watches

  function Watcher(resource, path) {
    this.resource = resource;
    this.path = path;
    this.rv = "";
    this.socket = null;
  }
  Watcher.prototype.start = function () {
    var self = this;
    getJSON(this.path).then(function (res) {
      if (res.status === 404) { state.synced[self.resource] = "absent"; render(); return; }
      if (res.status !== 200 || !res.body) { self.retry(true); return; }
      var store = state.objects[self.resource];
      if (window.minikubeLiteMap) window.minikubeLiteMap.lists.count += 1;
      store.clear();
      (res.body.items || []).forEach(function (o) { store.set(keyOf(o), o); });
      self.rv = md(res.body).resourceVersion || "";
      state.synced[self.resource] = true;
      changed(self.resource);
      self.watch();
    }, function () { self.retry(true); });
  };
  Watcher.prototype.watch = function () {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + location.host + this.path + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
      encodeURIComponent(this.rv);
    var protocols = TOKEN ? [WS_BEARER + b64url(TOKEN), "minikube-lite.watch"] : [];
    var ws = new WebSocket(url, protocols);
    this.socket = ws;
    var relist = false;
    var opened = false;
    ws.onopen = function () { opened = true; connection(true); };
    ws.onmessage = function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      if (ev.type === "ERROR") {
        relist = true;            // 410 Expired/Gone and any other error: start again from a list
        ws.close();
        return;
      }
      var obj = ev.object;
      if (md(obj).resourceVersion) self.rv = md(obj).resourceVersion;
      if (ev.type === "BOOKMARK") return;
      var store = state.objects[self.resource];
      if (ev.type === "DELETED") store.delete(keyOf(obj)); else store.set(keyOf(obj), obj);
      changed(self.resource, obj);
    };
    ws.onclose = function () {
      if (self.socket !== ws) return;
      if (opened) connection(false);
      self.retry(relist || !opened);   // refused outright: the server may have restarted; list again
    };
  };
  Watcher.prototype.retry = function (relist) {
    var self = this;
    setTimeout(function () { if (relist || !self.rv) self.start(); else self.watch(); }, RETRY_MS);
  };

  var connState = { open: 0 };
  function connection(up) {
    connState.open += up ? 1 : -1;
    var el = document.getElementById("conn");
    if (!el) return;
    var ok = connState.open > 0;
    el.className = "conn " + (ok ? "ok" : "bad");
    el.textContent = ok ? "live (" + connState.open + " watches)" : "reconnecting...";
  }

  // ------------------------------------------------------------------ cloud side

  var cloudTimer = null;
  function refreshCloudSoon() {
    if (cloudTimer || !state.cloud.served) return;
    cloudTimer = setTimeout(function () { cloudTimer = null; refreshCloud(); }, 250);
  }
  function refreshCloud() {
    Promise.all(["zones", "disks", "snapshots", "instances"].map(function (p) { return getJSON("/cloud/v1/" + p); }))
      .then(function (rs) {
        if (rs[0].status === 404) { state.cloud.served = false; render(); return; }
        state.cloud.zones = (rs[0].body && rs[0].body.Zones) || [];
        state.cloud.disks = (rs[1].body && rs[1].body.Disks) || [];
        state.cloud.snapshots = (rs[2].body && rs[2].body.Snapshots) || [];
        state.cloud.instances = (rs[3].body && rs[3].body.Instances) || [];
        render();
      });
  }

  // ------------------------------------------------------------------ change handling

  var renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () { renderQueued = false; draw(); });
  }
  function changed(resource, obj) {
    if (resource === "events" && state.objects.events.size > MAX_KEPT_EVENTS) pruneEvents();
    if (CLOUD_RELEVANT[resource]) refreshCloudSoon();
    if (resource === "events" && obj && /provision|attach|snapshot|csi/i.test(
      ((obj.source || {}).component || "") + " " + (obj.reportingComponent || "") + " " + (obj.reason || ""))) {
      refreshCloudSoon();
    }
    if (state.selected && state.selected.kind === "pod" && resource !== "events") refreshWhySoon();
    render();
  }

  function pruneEvents() {
    var store = state.objects.events;
    var oldest = Array.from(store.entries()).sort(function (a, b) {
      return eventTime(a[1]) < eventTime(b[1]) ? -1 : eventTime(a[1]) > eventTime(b[1]) ? 1 : 0;
    });
    oldest.slice(0, store.size - Math.floor(MAX_KEPT_EVENTS * 3 / 4)).forEach(function (e) { store.delete(e[0]); });
  }

  // ------------------------------------------------------------------ why-pending

  var whyTimer = null;
  function refreshWhySoon() {
    if (whyTimer) return;
    whyTimer = setTimeout(function () { whyTimer = null; fetchWhy(); }, 300);
  }
  function fetchWhy() {
    if (!state.selected || state.selected.kind !== "pod") return;
    var key = state.selected.key;
    var parts = key.split("/");
    getJSON("/minikube-lite/v1/why-pending/namespaces/" + encodeURIComponent(parts[0]) + "/pods/" +
      encodeURIComponent(parts[1])).then(function (res) {
      if (!state.selected || state.selected.key !== key) return;
      if (res.status === 200) { state.why = res.body; state.whyError = ""; }
      else { state.why = null; state.whyError = (res.body && res.body.message) || ("HTTP " + res.status); }
      drawDetails();
    });
  }

  // ------------------------------------------------------------------ drawing

  function draw() {
    var root = document.getElementById("map");
    if (!root) return;
    root.innerHTML = drawUnscheduled() + drawRegions() + drawStorage();
    drawEvents();
    drawDetails();
    document.body.setAttribute("data-synced", Object.keys(RESOURCES).every(function (r) { return state.synced[r]; })
      ? "true" : "false");
  }

  function podChip(p) {
    var phase = podPhase(p);
    var key = keyOf(p);
    var ns = md(p).namespace;
    var sel = state.selected && state.selected.kind === "pod" && state.selected.key === key;
    var cls = "pod " + (phase === "Terminating" ? "terminating" : "phase-" + phase) +
      (ns === "kube-system" ? " system" : "") + (sel ? " selected" : "");
    var title = key + " · " + phase + ((p.spec && p.spec.nodeName) ? " · " + p.spec.nodeName : "");
    return '<span class="' + cls + '" data-key="' + esc(key) + '" data-phase="' + esc(phase) + '" data-node="' +
      esc((p.spec && p.spec.nodeName) || "") + '" title="' + esc(title) + '">' +
      esc(ns === "default" ? md(p).name : key) + "</span>";
  }

  function drawUnscheduled() {
    var pods = list("pods").filter(function (p) {
      return !(p.spec && p.spec.nodeName) && ["Succeeded", "Failed"].indexOf(podPhase(p)) < 0;
    }).sort(byName);
    // Pods bound to a node the cluster does not have (deleted, or never registered).
    var stray = list("pods").filter(function (p) {
      return p.spec && p.spec.nodeName && !state.objects.nodes.has(p.spec.nodeName);
    }).sort(byName);
    var out = "";
    if (pods.length) {
      out += '<div class="unscheduled" id="unscheduled"><h2>Not scheduled to any node (' + pods.length +
        ')</h2><div class="pods">' + pods.map(podChip).join("") + "</div></div>";
    }
    if (stray.length) {
      out += '<div class="unscheduled" id="stray"><h2>On nodes not in the cluster (' + stray.length +
        ')</h2><div class="pods">' + stray.map(podChip).join("") + "</div></div>";
    }
    return out;
  }

  function drawRegions() {
    // region -> zone -> {nodes, disks}; zones come from the cloud and from node labels.
    var regions = {};
    function zone(region, z) {
      region = region || "(no region label)";
      z = z || "(no zone label)";
      regions[region] = regions[region] || { zones: {}, snapshots: [] };
      regions[region].zones[z] = regions[region].zones[z] || { nodes: [], disks: [], available: true };
      return regions[region].zones[z];
    }
    state.cloud.zones.forEach(function (z) { zone(z.RegionId, z.ZoneId).available = z.Available !== false; });
    list("nodes").sort(byName).forEach(function (n) { zone(regionOf(labels(n)), zoneOf(labels(n))).nodes.push(n); });
    state.cloud.disks.forEach(function (d) { zone(d.RegionId, d.ZoneId).disks.push(d); });
    state.cloud.snapshots.forEach(function (s) {
      var r = s.RegionId || "(no region label)";
      regions[r] = regions[r] || { zones: {}, snapshots: [] };
      regions[r].snapshots.push(s);
    });
    var podsByNode = {};
    list("pods").forEach(function (p) {
      var n = p.spec && p.spec.nodeName;
      if (n) (podsByNode[n] = podsByNode[n] || []).push(p);
    });
    var pvByDisk = {};
    list("pvs").forEach(function (pv) {
      var h = pv.spec && pv.spec.csi && pv.spec.csi.volumeHandle;
      if (h) pvByDisk[h] = pv;
    });
    var nodeByInstance = {};
    state.cloud.instances.forEach(function (i) { nodeByInstance[i.InstanceId] = i.InstanceName; });
    var out = "";
    Object.keys(regions).sort().forEach(function (r) {
      var region = regions[r];
      out += '<div class="region" data-region="' + esc(r) + '"><div class="title">Region ' + esc(r) + "</div>";
      out += '<div class="zones">';
      Object.keys(region.zones || {}).sort().forEach(function (zn) {
        var z = region.zones[zn];
        out += '<div class="zone' + (z.nodes.length ? "" : " empty") + '" data-zone="' + esc(zn) + '"><div class="title">' +
          "Zone " + esc(zn) + ' <span class="sub">' + z.nodes.length + " node(s), " + z.disks.length + " disk(s)" +
          (z.available ? "" : ", <b class=no>outage</b>") + "</span></div>";
        out += '<div class="nodes">' + (z.nodes.map(function (n) { return drawNode(n, podsByNode); }).join("") ||
          '<span class="empty-note">no nodes in this zone</span>') + "</div>";
        if (z.disks.length) {
          out += '<div class="disks">' + z.disks.map(function (d) { return drawDisk(d, pvByDisk, nodeByInstance); }).join("") +
            "</div>";
        }
        out += "</div>";
      });
      out += "</div>";
      if (region.snapshots.length) {
        out += '<div class="snapshots"><b>Cloud snapshots:</b> ' + region.snapshots.map(function (s) {
          return '<span class="snap" data-snapshot="' + esc(s.SnapshotId) + '"><span class="mono">' + esc(s.SnapshotId) +
            "</span> of " + esc(s.SourceDiskId) + " · " + esc(s.SourceDiskSize) + " GiB · " + esc(s.Status) + " " +
            esc(s.Progress) + "</span>";
        }).join("") + "</div>";
      }
      out += "</div>";
    });
    return out;
  }

  function drawNode(n, podsByNode) {
    var name = md(n).name;
    var l = labels(n);
    var ready = ((n.status && n.status.conditions) || []).some(function (c) {
      return c.type === "Ready" && c.status === "True";
    });
    var roles = Object.keys(l).filter(function (k) { return k.indexOf("node-role.kubernetes.io/") === 0; })
      .map(function (k) { return k.split("/")[1]; });
    var alloc = (n.status && n.status.allocatable) || {};
    var taints = ((n.spec && n.spec.taints) || []).map(function (t) {
      return '<span class="taint">' + esc(t.key + (t.value ? "=" + t.value : "") + ":" + t.effect) + "</span>";
    }).join("");
    if (n.spec && n.spec.unschedulable) taints += '<span class="taint">unschedulable</span>';
    var shown = ["node.kubernetes.io/instance-type", "topology.diskplugin.csi.alibabacloud.com/zone"]
      .filter(function (k) { return l[k]; })
      .map(function (k) { return '<span class="label" title="' + esc(k) + '">' + esc(k.split("/").pop() + "=" + l[k]) + "</span>"; })
      .join("");
    var pods = (podsByNode[name] || []).sort(byName);
    var chips = pods.slice(0, POD_CHIPS_PER_NODE).map(podChip).join("");
    if (pods.length > POD_CHIPS_PER_NODE) chips += '<span class="muted">+' + (pods.length - POD_CHIPS_PER_NODE) + " more</span>";
    var sel = state.selected && state.selected.kind === "node" && state.selected.key === name;
    return '<div class="node' + (ready ? "" : " notready") + (sel ? " selected" : "") + '" data-node-name="' + esc(name) + '">' +
      '<div class="name">' + esc(name) + ' <span class="meta">' + esc(roles.join(",") || "worker") +
      (ready ? "" : " · NotReady") + "</span></div>" +
      '<div class="meta">cpu ' + esc(alloc.cpu || "?") + " · mem " + esc(memory(alloc.memory)) + " · pods " +
      esc(alloc.pods || "?") + " · " + Object.keys(l).length + " labels</div>" +
      (taints ? "<div>" + taints + "</div>" : "") + (shown ? "<div>" + shown + "</div>" : "") +
      '<div class="pods">' + chips + "</div></div>";
  }

  function drawDisk(d, pvByDisk, nodeByInstance) {
    var pv = pvByDisk[d.DiskId];
    var where = (d.InstanceIds && d.InstanceIds.length ? d.InstanceIds : (d.InstanceId ? [d.InstanceId] : []))
      .map(function (i) { return nodeByInstance[i] || i; }).join(", ");
    return '<div class="disk' + (pv ? "" : " orphan") + '" data-disk="' + esc(d.DiskId) + '" title="' +
      esc(pv ? "PV " + md(pv).name : "no PersistentVolume points at this disk") + '"><span class="id">' + esc(d.DiskId) +
      "</span> " + esc(d.Size) + " GiB " + esc(d.Category) + " · " + esc(d.Status) +
      (where ? " · on " + esc(where) : "") + (d.SourceSnapshotId ? " · from " + esc(d.SourceSnapshotId) : "") +
      "<br>" + (pv ? "PV " + esc(md(pv).name) : '<span class="no">no PV</span>') + "</div>";
  }

  function pvZones(pv) {
    var zones = [];
    var z = zoneOf(labels(pv));
    if (z) zones.push(z);
    var terms = (((pv.spec || {}).nodeAffinity || {}).required || {}).nodeSelectorTerms || [];
    terms.forEach(function (t) {
      (t.matchExpressions || []).forEach(function (e) {
        if (/zone$|hostname$/.test(e.key) && e.operator === "In") {
          (e.values || []).forEach(function (v) { if (zones.indexOf(v) < 0) zones.push(v); });
        }
      });
    });
    return zones;
  }

  function drawStorage() {
    var classes = {};
    list("storageclasses").forEach(function (sc) { classes[md(sc).name] = sc; });
    var pvs = {};
    list("pvs").forEach(function (pv) { pvs[md(pv).name] = pv; });
    var disks = {};
    state.cloud.disks.forEach(function (d) { disks[d.DiskId] = d; });
    var snaps = {};
    state.cloud.snapshots.forEach(function (s) { snaps[s.SnapshotId] = s; });
    var out = '<section class="panel" id="claims"><h2>Claims → volumes → cloud disks</h2>';
    var pvcs = list("pvcs").sort(byName);
    var claimed = {};
    if (!pvcs.length) out += '<div class="empty-note">no PersistentVolumeClaims</div>';
    else {
      out += "<table><tr><th>claim</th><th>class</th><th></th><th>volume</th><th></th><th>cloud disk</th></tr>";
      pvcs.forEach(function (c) {
        var sc = classes[(c.spec || {}).storageClassName];
        var pv = pvs[(c.spec || {}).volumeName];
        if (pv) claimed[md(pv).name] = true;
        var handle = pv && pv.spec && pv.spec.csi && pv.spec.csi.volumeHandle;
        var disk = handle && disks[handle];
        var selected = ann(c)["volume.kubernetes.io/selected-node"];
        var source = (c.spec || {}).dataSource;
        out += '<tr data-pvc="' + esc(keyOf(c)) + '"><td>' + esc(keyOf(c)) + "<br><b>" + esc((c.status || {}).phase || "Pending") +
          "</b>" + (selected ? ' <span class="muted">selected-node=' + esc(selected) + "</span>" : "") +
          (source ? '<br><span class="muted">from ' + esc(source.kind + " " + source.name) + "</span>" : "") + "</td><td>" +
          esc((c.spec || {}).storageClassName || "") + (sc ? '<br><span class="muted">' + esc(sc.volumeBindingMode || "Immediate") +
          "</span>" : "") + '</td><td class="arrow">→</td><td>' +
          (pv ? esc(md(pv).name) + "<br>" + esc((pv.status || {}).phase || "") + " " + esc(pvZones(pv).join(",")) +
            (pv.spec.local ? ' <span class="muted">local ' + esc(pv.spec.local.path) + "</span>" : "")
            : '<span class="muted">none yet</span>') + '</td><td class="arrow">→</td><td>' +
          (disk ? '<span class="mono">' + esc(disk.DiskId) + "</span><br>" + esc(disk.ZoneId) + " · " + esc(disk.Status)
            : handle ? '<span class="mono">' + esc(handle) + "</span>" : '<span class="muted">-</span>') + "</td></tr>";
      });
      out += "</table>";
    }
    var loose = list("pvs").filter(function (pv) { return !claimed[md(pv).name]; }).sort(byName);
    if (loose.length) {
      out += '<div style="margin-top:6px"><b>Volumes not bound to a listed claim:</b> ' + loose.map(function (pv) {
        return '<span class="label" data-pv="' + esc(md(pv).name) + '">' + esc(md(pv).name) + " " +
          esc((pv.status || {}).phase || "") + " " + esc(pvZones(pv).join(",")) + "</span>";
      }).join("") + "</div>";
    }
    out += "</section>";

    var contents = {};
    list("volumesnapshotcontents").forEach(function (c) { contents[md(c).name] = c; });
    var vss = list("volumesnapshots").sort(byName);
    if (state.synced.volumesnapshots !== "absent") {
      out += '<section class="panel" id="snapshots"><h2>Snapshots → contents → cloud snapshots</h2>';
      if (!vss.length) out += '<div class="empty-note">no VolumeSnapshots</div>';
      else {
        out += "<table><tr><th>snapshot</th><th></th><th>content</th><th></th><th>cloud snapshot</th></tr>";
        vss.forEach(function (vs) {
          var st = vs.status || {};
          var content = contents[st.boundVolumeSnapshotContentName];
          var handle = content && content.status && content.status.snapshotHandle;
          var cs = handle && snaps[handle];
          out += '<tr data-vs="' + esc(keyOf(vs)) + '"><td>' + esc(keyOf(vs)) + "<br>ready=" + esc(String(!!st.readyToUse)) +
            ' <span class="muted">of ' + esc(((vs.spec || {}).source || {}).persistentVolumeClaimName || "") + "</span></td>" +
            '<td class="arrow">→</td><td>' + (content ? esc(md(content).name) : '<span class="muted">none yet</span>') +
            '</td><td class="arrow">→</td><td>' + (cs ? '<span class="mono">' + esc(cs.SnapshotId) + "</span><br>" +
            esc(cs.Status) + " " + esc(cs.Progress) : handle ? '<span class="mono">' + esc(handle) + "</span>" :
            '<span class="muted">-</span>') + "</td></tr>";
        });
        out += "</table>";
      }
      out += "</section>";
    }

    var vas = list("volumeattachments").sort(byName);
    out += '<section class="panel" id="attachments"><h2>VolumeAttachments</h2>';
    if (!vas.length) out += '<div class="empty-note">no VolumeAttachments</div>';
    else {
      out += "<table><tr><th>volume</th><th>node</th><th>attacher</th><th>attached</th></tr>";
      vas.forEach(function (va) {
        var spec = va.spec || {};
        out += '<tr data-va="' + esc(md(va).name) + '"><td>' + esc((spec.source || {}).persistentVolumeName || "") + "</td><td>" +
          esc(spec.nodeName) + "</td><td>" + esc(spec.attacher) + "</td><td>" +
          ((va.status || {}).attached ? '<span class="ok">yes</span>' : '<span class="warn">not yet</span>') + "</td></tr>";
      });
      out += "</table>";
    }
    return out + "</section>";
  }

  function drawEvents() {
    var el = document.getElementById("events");
    if (!el) return;
    var events = list("events").sort(function (a, b) {
      var ta = eventTime(a), tb = eventTime(b);
      if (ta !== tb) return ta < tb ? 1 : -1;
      return Number(md(b).resourceVersion || 0) - Number(md(a).resourceVersion || 0);
    }).slice(0, MAX_EVENTS);
    el.innerHTML = events.length ? events.map(function (e) {
      var o = e.involvedObject || {};
      return '<div class="event"><span class="when">' + esc(eventTime(e).replace(/^.*T/, "").replace("Z", "")) +
        '</span> <span class="type-' + esc(e.type) + '">' + esc(e.reason) + '</span> <span class="obj">' +
        esc((o.kind || "") + "/" + (o.name || "")) + (e.count > 1 ? " ×" + e.count : "") + "</span><br>" +
        esc(e.message) + "</div>";
    }).join("") : '<div class="empty-note">no events yet</div>';
  }

  function drawDetails() {
    var el = document.getElementById("details");
    if (!el) return;
    var sel = state.selected;
    if (!sel) { el.innerHTML = '<div class="empty-note">Click a pod (a Pending one shows why) or a node.</div>'; return; }
    if (sel.kind === "node") { el.innerHTML = nodeDetails(state.objects.nodes.get(sel.key)); return; }
    var pod = state.objects.pods.get(sel.key);
    var out = "<h3>Pod " + esc(sel.key) + "</h3>";
    if (!pod) out += '<div class="muted">(not in the cluster now)</div>';
    else {
      out += "<div>phase <b>" + esc(podPhase(pod)) + "</b>" + (pod.spec.nodeName ? " on node <b>" + esc(pod.spec.nodeName) + "</b>" : "") +
        "</div>";
    }
    var why = state.why;
    if (state.whyError) out += '<div class="summary">' + esc(state.whyError) + "</div>";
    if (why && why.namespace + "/" + why.name === sel.key) out += whyDetails(why);
    else if (!state.whyError) out += '<div class="muted">asking the scheduler...</div>';
    el.innerHTML = out;
  }

  function whyDetails(why) {
    var out = '<div class="summary' + (why.pending ? "" : " fine") + '" id="why-summary">' + esc(why.summary) + "</div>";
    (why.notes || []).forEach(function (n) { out += '<div class="muted">' + esc(n) + "</div>"; });
    if (why.nodes && why.nodes.length) {
      out += '<table id="why-nodes"><tr><th>node</th><th>fits</th><th>plugin: reason</th></tr>';
      why.nodes.forEach(function (n) {
        out += '<tr data-why-node="' + esc(n.node) + '"><td>' + esc(n.node) + '<br><span class="muted">' + esc(n.zone) +
          "</span></td><td>" +
          (n.fits ? '<span class="ok">yes</span>' : '<span class="no">no</span>') + '</td><td class="reasons">' +
          (n.fits ? "" : "<b>" + esc(n.plugin) + "</b>: " + esc(n.reasons.join(", "))) + "</td></tr>";
      });
      out += "</table>";
    }
    (why.claims || []).forEach(function (c) {
      out += '<div class="claim" data-why-claim="' + esc(c.name) + '"><b>claim ' + esc(c.name) + "</b> ";
      if (!c.exists) { out += '<span class="no">' + esc(c.problem) + "</span></div>"; return; }
      out += esc(c.phase) + " · class " + esc(c.storage_class || "(none)") +
        (c.binding_mode ? " · " + esc(c.binding_mode) : "") + (c.provisioner ? " · " + esc(c.provisioner) : "");
      if (c.allowed_topologies && c.allowed_topologies.length) {
        out += '<br><span class="muted">allowedTopologies:</span> ' + c.allowed_topologies.map(function (t) {
          return (t.matchLabelExpressions || []).map(function (e) { return esc(e.key + " in [" + (e.values || []).join(", ") + "]"); })
            .join(" and ");
        }).join(" or ");
      }
      if (c.selected_node) out += '<br><span class="muted">selected-node:</span> ' + esc(c.selected_node);
      if (c.volume) {
        out += '<br><span class="muted">volume:</span> ' + esc(c.volume.name) + " (" + esc(c.volume.phase) + ")" +
          (c.volume.zones.length ? " in " + esc(c.volume.zones.join(", ")) : "") +
          (c.volume.volume_handle ? ' · disk <span class="mono">' + esc(c.volume.volume_handle) + "</span>" : "");
      }
      if (c.problem) out += '<br><span class="no">' + esc(c.problem) + "</span>";
      (c.warnings || []).forEach(function (w) {
        out += '<br><span class="no">Warning ' + esc(w.reason) + "</span>: " + esc(w.message);
      });
      out += "</div>";
    });
    return out;
  }

  function nodeDetails(n) {
    if (!n) return '<div class="muted">(node gone)</div>';
    var l = labels(n);
    var out = "<h3>Node " + esc(md(n).name) + "</h3><table>";
    out += "<tr><th>taints</th><td>" + (((n.spec || {}).taints || []).map(function (t) {
      return esc(t.key + (t.value ? "=" + t.value : "") + ":" + t.effect);
    }).join("<br>") || "none") + "</td></tr>";
    var alloc = (n.status || {}).allocatable || {};
    out += "<tr><th>allocatable</th><td>" + Object.keys(alloc).sort().map(function (k) { return esc(k + ": " + alloc[k]); })
      .join("<br>") + "</td></tr>";
    out += "<tr><th>labels</th><td>" + Object.keys(l).sort().map(function (k) { return esc(k + "=" + l[k]); }).join("<br>") +
      "</td></tr>";
    out += "<tr><th>conditions</th><td>" + (((n.status || {}).conditions) || []).map(function (c) {
      return esc(c.type + "=" + c.status);
    }).join(", ") + "</td></tr></table>";
    return out;
  }

  // ------------------------------------------------------------------ page

  document.getElementById("app").innerHTML =
    '<header><h1>minikube-lite · live map</h1><span id="conn" class="conn bad">connecting...</span>' +
    '<span class="legend"><span style="--c:var(--pending)">Pending</span><span style="--c:var(--running)">Running</span>' +
    '<span style="--c:var(--succeeded)">Succeeded</span><span style="--c:var(--failed)">Failed</span>' +
    '<span style="--c:var(--terminating)">Terminating</span></span></header>' +
    '<main><div id="map"></div><aside><section class="panel"><h2>Details</h2><div id="details"></div></section>' +
    '<section class="panel"><h2>Events</h2><div id="events"></div></section></aside></main>';

  document.addEventListener("click", function (ev) {
    var pod = ev.target.closest(".pod");
    if (pod) {
      state.selected = { kind: "pod", key: pod.getAttribute("data-key") };
      state.why = null;
      state.whyError = "";
      fetchWhy();
      render();
      return;
    }
    var node = ev.target.closest(".node");
    if (node) {
      state.selected = { kind: "node", key: node.getAttribute("data-node-name") };
      render();
    }
  });

  var watchers = {};
  Object.keys(RESOURCES).forEach(function (r) { watchers[r] = new Watcher(r, RESOURCES[r]); watchers[r].start(); });
  // For tests and the curious (read-only inspection from the console).
  window.minikubeLiteMap = { watchers: watchers, state: state, lists: { count: 0 } };
  refreshCloud();
  render();
})();
