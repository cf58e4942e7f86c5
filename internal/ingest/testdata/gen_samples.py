#!/usr/bin/env python3
"""Generates the sample PBX files in this directory.

Master.csv follows asterisk cdr/cdr_csv.c: every string column quoted with
embedded quotes doubled, integers bare, dates quoted, an empty answer date
empty and unquoted; clid built as ast_callerid_merge + ast_escape_quoted.
The FreeSWITCH documents follow mod_json_cdr (cJSON_PrintUnformatted, newest
callflow profile first); the HTTP bodies follow process_cdr() for each encode
setting, with switch_url_encode(double_encode=false).
Run: python3 gen_samples.py (from this directory).
"""
import base64, datetime, json

# ---------------------------------------------------------------- Asterisk

def q(s):
    return '"' + s.replace('"', '""') + '"'

def clid(name, num):
    esc = name.replace('\\', '\\\\').replace('"', '\\"')
    return '"%s" <%s>' % (esc, num)

def date(s):
    return '' if s is None else q(s)

def secs(a, b):
    f = "%Y-%m-%d %H:%M:%S"
    return int((datetime.datetime.strptime(b, f) - datetime.datetime.strptime(a, f)).total_seconds())

def row(src, dst, ctx, cl, chan, dchan, app, data, start, answer, end, dispo,
        acct="", ama="DOCUMENTATION", uid=None, uf=None, newcols=None):
    dur = secs(start, end)
    bill = secs(answer, end) if answer else 0
    cols = [q(acct), q(src), q(dst), q(ctx), q(cl), q(chan), q(dchan), q(app), q(data),
            date(start), date(answer), date(end), str(dur), str(bill), q(dispo), q(ama)]
    if uid is not None:
        cols.append(q(uid))
    if uf is not None:
        cols.append(q(uf))
    if newcols is not None:
        peer, linked, seq = newcols
        cols += [q(peer), q(linked), str(seq)]
    return ",".join(cols)

D = "2026-10-02 "
lines = [
    # 18 columns (the shipped cdr.conf.sample: loguniqueid + loguserfield)
    row("+14155550142", "1001", "from-trunk", clid("", "+14155550142"), "PJSIP/trunk-00000001", "PJSIP/1001-00000002",
        "Dial", "PJSIP/1001,30,tT", D+"09:00:00", D+"09:00:06", D+"09:03:20", "ANSWERED", uid="1793872800.101", uf=""),
    row("+16505550199", "1002", "from-trunk", clid("Jane Roe", "+16505550199"), "PJSIP/trunk-00000003", "PJSIP/1002-00000004",
        "Dial", "PJSIP/1002,30,tT", D+"09:05:00", None, D+"09:05:30", "NO ANSWER", uid="1793873100.105", uf=""),
    row("1001", "1002", "from-internal", clid("Alice Johnson", "1001"), "PJSIP/1001-00000005", "PJSIP/1002-00000006",
        "Dial", "PJSIP/1002,20", D+"09:10:00", D+"09:10:04", D+"09:12:04", "ANSWERED", uid="1793873400.110", uf=""),
    row("1003", "1001", "from-internal", clid('Robert "Bobby" Tables', "1003"), "PJSIP/1003-00000007", "PJSIP/1001-00000008",
        "Dial", "PJSIP/1001,20", D+"09:15:00", None, D+"09:15:02", "BUSY", uid="1793873700.115", uf=""),
    row("1001", "+442071838750", "from-internal", clid("Alice Johnson", "1001"), "PJSIP/1001-00000009", "PJSIP/trunk-0000000a",
        "Dial", "PJSIP/+442071838750@trunk,300", D+"09:20:00", D+"09:20:12", D+"09:31:40", "ANSWERED", acct="sales", uid="1793874000.120", uf="billing:uk"),
    row("1002", "0049301234567", "from-internal", clid("Bob Smith", "1002"), "PJSIP/1002-0000000b", "",
        "Dial", "PJSIP/0049301234567@trunk,300", D+"09:25:00", None, D+"09:25:01", "FAILED", uid="1793874300.125", uf=""),
    row("1004", "+18005550100", "from-internal", clid("Dana Lee", "1004"), "PJSIP/1004-0000000c", "PJSIP/trunk-0000000d",
        "Dial", "PJSIP/+18005550100@trunk", D+"09:30:00", None, D+"09:30:03", "CONGESTION", uid="1793874600.130", uf=""),
    row("+12125550123", "1001", "from-trunk", clid("", "+12125550123"), "PJSIP/trunk-0000000e", "PJSIP/1001-0000000f",
        "Dial", "PJSIP/1001,30,tT", D+"09:35:00", None, D+"09:35:09", "CANCEL", uid="1793874900.135", uf=""),
    row("anonymous", "1001", "from-trunk", clid("Anonymous", ""), "PJSIP/trunk-00000010", "PJSIP/1001-00000011",
        "Dial", "PJSIP/1001,30", D+"09:40:00", None, D+"09:40:25", "NO ANSWER", uid="1793875200.140", uf=""),
    row("+4930123456", "1002", "from-trunk", clid("Müller, José", "+4930123456"), "PJSIP/trunk-00000012", "PJSIP/1002-00000013",
        "Dial", "PJSIP/1002,30,tT", D+"09:45:00", D+"09:45:03", D+"09:47:00", "ANSWERED", uid="1793875500.145", uf=""),
    row("+13125550188", "1003", "from-trunk", clid("C:\\Users\\ops", "+13125550188"), "PJSIP/trunk-00000014", "PJSIP/1003-00000015",
        "Dial", "PJSIP/1003,30", D+"09:50:00", D+"09:50:02", D+"09:50:40", "ANSWERED", uid="1793875800.150", uf=""),
    # a forked dial (ring group 600): one CDR per rung phone, same uniqueid
    row("+13035550111", "600", "from-trunk", clid("Front Desk Caller", "+13035550111"), "PJSIP/trunk-00000016", "PJSIP/1001-00000017",
        "Dial", "PJSIP/1001&PJSIP/1002,20,tT", D+"10:00:00", None, D+"10:00:07", "NO ANSWER", uid="1793876400.160", uf=""),
    row("+13035550111", "600", "from-trunk", clid("Front Desk Caller", "+13035550111"), "PJSIP/trunk-00000016", "PJSIP/1002-00000018",
        "Dial", "PJSIP/1001&PJSIP/1002,20,tT", D+"10:00:00", D+"10:00:07", D+"10:04:07", "ANSWERED", uid="1793876400.160", uf=""),
    row("+17185550177", "1004", "from-trunk", clid("Sam Park", "+17185550177"), "PJSIP/trunk-00000019", "",
        "VoiceMail", "1004@default,u", D+"10:10:00", D+"10:10:20", D+"10:10:55", "ANSWERED", uid="1793877000.170", uf=""),
    row("+18885550166", "1099", "from-trunk", clid("Fax Sender", "+18885550166"), "PJSIP/trunk-0000001a", "",
        "ReceiveFAX", "/var/spool/asterisk/fax/1793877600.180.tif", D+"10:20:00", D+"10:20:01", D+"10:21:30", "ANSWERED", uid="1793877600.180", uf=""),
    row("1002", "1005", "from-internal", clid("Bob Smith", "1002"), "PJSIP/1002-0000001b", "PJSIP/1005-0000001c",
        "Dial", "PJSIP/1005,20", D+"10:25:00", None, D+"10:25:00", "UNKNOWN", uid="1793877900.185", uf=""),
    row("+15105550155", "1001", "from-trunk", clid("Lee", "+15105550155"), "PJSIP/trunk-0000001d", "PJSIP/1001-0000001e",
        "Dial", "PJSIP/1001,30", D+"10:30:00", D+"10:30:05", D+"10:32:05", "ANSWERED", uid="1793878200.190", uf='campaign "spring", wave 2'),
    row("+15105550156", "1002", "from-trunk", clid("Multi Line", "+15105550156"), "PJSIP/trunk-0000001f", "PJSIP/1002-00000020",
        "Dial", "PJSIP/1002,30", D+"10:35:00", D+"10:35:04", D+"10:36:04", "ANSWERED", uid="1793878500.195", uf="note: first line\nsecond line"),
    row("+16175550144", "1013", "ext-queues", clid("Queue Caller", "+16175550144"), "Local/1013@from-queue-000000c4;1", "PJSIP/1013-00000021",
        "Queue", "support,t,,,300", D+"10:40:00", D+"10:40:30", D+"10:50:00", "ANSWERED", uid="1793879400.200", uf=""),
    row("1005", "1001", "from-internal", "1005", "PJSIP/1005-00000022", "PJSIP/1001-00000023",
        "Dial", "PJSIP/1001,20", D+"10:45:00", D+"10:45:02", D+"10:46:00", "ANSWERED", uid="1793879700.205", uf=""),
    row("1006", "911", "from-internal", "Bob <1006>", "PJSIP/1006-00000024", "PJSIP/trunk-00000025",
        "Dial", "PJSIP/911@trunk", D+"10:50:00", D+"10:50:01", D+"10:52:00", "ANSWERED", uid="1793880000.210", uf=""),
    # 16 columns (cdr_csv code defaults: no uniqueid, no userfield)
    row("+14155550142", "1001", "from-pstn", clid("", "+14155550142"), "SIP/trunk-00000615", "SIP/1001-00000616",
        "Dial", "SIP/1001,30", D+"11:00:00", D+"11:00:04", D+"11:01:00", "ANSWERED"),
    row("1001", "+14155550142", "from-internal", clid("Alice Johnson", "1001"), "SIP/1001-00000617", "SIP/trunk-00000618",
        "Dial", "SIP/trunk/+14155550142", D+"11:05:00", None, D+"11:05:45", "NO ANSWER"),
    row("1002", "1003", "from-internal", clid("Bob Smith", "1002"), "SIP/1002-00000619", "SIP/1003-0000061a",
        "Dial", "SIP/1003,20", D+"11:10:00", None, D+"11:10:01", "BUSY", ama="BILLING"),
    # 21 columns (loguniqueid + loguserfield + newcdrcolumns)
    row("+14155550142", "1001", "from-trunk", clid("", "+14155550142"), "PJSIP/trunk-00000030", "PJSIP/1001-00000031",
        "Dial", "PJSIP/1001,30,tT", D+"12:00:00", D+"12:00:05", D+"12:05:00", "ANSWERED",
        uid="1793884800.300", uf="", newcols=("", "1793884800.300", 412)),
    row("+14155550142", "1001", "from-trunk", clid("", "+14155550142"), "PJSIP/trunk-00000030", "PJSIP/1002-00000032",
        "Dial", "PJSIP/1002,30,tT", D+"12:05:00", D+"12:05:03", D+"12:08:00", "ANSWERED",
        uid="1793884800.300", uf="", newcols=("", "1793884800.300", 413)),
    row("1001", "+33142685300", "from-internal", clid("Alice Johnson", "1001"), "PJSIP/1001-00000033", "PJSIP/trunk-00000034",
        "Dial", "PJSIP/+33142685300@trunk", D+"12:10:00", None, D+"12:10:20", "NO ANSWER",
        acct="intl", uid="pbx01-1793885400.310", uf="", newcols=("intl", "pbx01-1793885400.310", 414)),
    row("+19175550133", "1004", "from-trunk", clid("Chris O'Neil", "+19175550133"), "PJSIP/trunk-00000035", "PJSIP/1004-00000036",
        "Dial", "PJSIP/1004,30", D+"12:15:00", None, D+"12:15:18", "BUSY",
        uid="1793885700.315", uf="", newcols=("", "1793885700.315", 415)),
    row("1004", "1001", "from-internal", clid("Dana Lee", "1004"), "PJSIP/1004-00000037", "",
        "Dial", "PJSIP/1001", D+"12:20:00", None, D+"12:20:00", "FAILED",
        uid="1793886000.320", uf="", newcols=("", "1793886000.320", 416)),
    # back to 16 columns (configuration reloaded): a cancelled outbound call
    row("1003", "+14155550177", "from-internal", clid('Robert "Bobby" Tables', "1003"), "SIP/1003-0000061b", "SIP/trunk-0000061c",
        "Dial", "SIP/trunk/+14155550177", D+"13:00:00", None, D+"13:00:12", "CANCEL", ama="OMIT"),
]
with open("Master.csv", "w", encoding="utf-8", newline="") as f:
    f.write("\n".join(lines) + "\n")

# -------------------------------------------------------------- FreeSWITCH

UNSAFE = "\r\n #%&+:;<=>?@[\\]^`{|}\""
HEX = "0123456789ABCDEF"

def url_encode(s):
    """switch_url_encode_opt(..., double_encode=false)."""
    b = s.encode("utf-8")
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        ok = c == ord('%') and i + 2 < len(b) + 0 and chr(b[i+1]) in HEX and i + 2 < len(b) and chr(b[i+2]) in HEX
        if not ok and (c < 0x20 or c > 0x7e or chr(c) in UNSAFE):
            out.append("%%%02X" % c)
        else:
            out.append(chr(c))
        i += 1
    return "".join(out)

def dump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

A = "62f746b4-84e6-4ceb-95bd-447e7184d454"
B = "9d0e3c51-2b7a-4f86-a1c4-5e6f7a8b9c0d"
CORE = "5b3c1e4e-8f2a-4d57-9c1b-2f6d8e0a7c31"
T0 = 1790673262000000 + 123456  # 2026-09-29 09:14:22.123456 UTC

def us(off_s):
    return T0 + int(off_s * 1e6)

def stamp(u):
    return datetime.datetime.fromtimestamp(u // 1000000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

def profile(name, num, dest, uuid, ctx, chan, rdnis="", ani=None, addr="203.0.113.10"):
    return {"username": "", "dialplan": "XML", "caller_id_name": name, "ani": ani or num, "aniii": "",
            "caller_id_number": num, "network_addr": addr, "rdnis": rdnis, "destination_number": dest,
            "uuid": uuid, "source": "mod_sofia", "context": ctx, "chan_name": chan}

def times(created, prof, answered, bridged, hangup, transfer=0, progress_media=0):
    return {"created_time": str(created), "profile_created_time": str(prof), "progress_time": "0",
            "progress_media_time": str(progress_media), "answered_time": str(answered), "bridged_time": str(bridged),
            "last_hold_time": "0", "hold_accum_time": "0", "hangup_time": str(hangup), "resurrect_time": "0",
            "transfer_time": str(transfer)}

def timevars(start, answer, end, bridge=0):
    v = {"start_stamp": stamp(start), "start_epoch": str(start // 1000000), "start_uepoch": str(start)}
    if answer:
        v.update({"answer_stamp": stamp(answer)})
    v.update({"answer_epoch": str(answer // 1000000), "answer_uepoch": str(answer)})
    if bridge:
        v.update({"bridge_stamp": stamp(bridge), "bridge_epoch": str(bridge // 1000000), "bridge_uepoch": str(bridge)})
    v.update({"end_stamp": stamp(end), "end_epoch": str(end // 1000000), "end_uepoch": str(end)})
    billsec = end // 1000000 - answer // 1000000 if answer else 0
    v.update({"duration": str(end // 1000000 - start // 1000000), "billsec": str(billsec),
              "mduration": str((end - start) // 1000), "billmsec": str((end - answer) // 1000 if answer else 0)})
    return v

SDP = ("v=0\r\no=FreeSWITCH 1790650000 1790650001 IN IP4 203.0.113.10\r\ns=FreeSWITCH\r\n"
       "c=IN IP4 203.0.113.10\r\nt=0 0\r\nm=audio 27482 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")

start, prof2, answer, bridge, end = us(0), us(1.5), us(6.2), us(6.3), us(95.7)
a_vars = {"direction": "inbound", "uuid": A, "session_id": "7", "sip_from_user": "+14155550142",
          "sip_full_from": '"Alice Johnson" <sip:+14155550142@carrier.example.net>;tag=7a2573f3',
          "sip_call_id": "8c1f0a3e7d2b4c9a@carrier.example.net", "switch_r_sdp": SDP,
          "caller_id": '"Alice Johnson" <+14155550142>', "call_uuid": A, "dialed_user": "1002",
          "dialed_domain": "pbx.example.net", "bridge_uuid": B, "signal_bond": B,
          "callee_id_name": "Bob Smith", "callee_id_number": "1002", "last_bridge_to": B,
          "last_app": "bridge", "last_arg": "user/1002@pbx.example.net",
          "hangup_cause": "NORMAL_CLEARING", "hangup_cause_q850": "16", "sip_hangup_disposition": "recv_bye",
          "effective_caller_id_name": "José Müller & Co"}
a_vars.update(timevars(start, answer, end, bridge))
a_doc = {
    "core-uuid": CORE, "switchname": "fs-pbx01",
    "channel_data": {"state": "CS_REPORTING", "direction": "inbound", "state_number": "11",
                     "flags": "0=1;1=1;3=1;20=1;37=1;38=1;40=1;43=1;53=1;105=1;106=1;112=1;113=1;122=1;134=1",
                     "caps": "1=1;2=1;3=1;4=1;5=1;6=1"},
    "callStats": {"audio": {"inbound": {"raw_bytes": 1531200, "media_bytes": 1531200, "packet_count": 4466,
                                        "jitter_min_variance": 0.3, "mos": 4.5},
                            "outbound": {"raw_bytes": 1526304, "media_bytes": 1526304, "packet_count": 4452}}},
    "variables": a_vars,
    "app_log": {"applications": [
        {"app_name": "set", "app_data": "domain_name=pbx.example.net", "app_stamp": str(us(0.01))},
        {"app_name": "transfer", "app_data": "1002 XML default", "app_stamp": str(us(1.4))},
        {"app_name": "bridge", "app_data": "user/1002@pbx.example.net", "app_stamp": str(us(1.6))}]},
    "callflow": [
        {"dialplan": "XML", "profile_index": "2",
         "extension": {"name": "local_extension", "number": "1002",
                       "applications": [{"last_executed": "true", "app_name": "bridge", "app_data": "user/1002@pbx.example.net"}],
                       "current_app": "bridge"},
         "caller_profile": dict(profile("Alice Johnson", "+14155550142", "1002", A, "default",
                                        "sofia/external/+14155550142@carrier.example.net", rdnis="+14155550100"),
                                originatee={"originatee_caller_profiles": [
                                    profile("Alice Johnson", "+14155550142", "1002", B, "default",
                                            "sofia/internal/1002@10.0.0.22:5060", addr="10.0.0.22")]}),
         "times": times(start, prof2, answer, bridge, end, progress_media=us(1.7))},
        {"dialplan": "XML", "profile_index": "1",
         "extension": {"name": "public_did", "number": "+14155550100",
                       "applications": [{"app_name": "set", "app_data": "domain_name=pbx.example.net"},
                                        {"last_executed": "true", "app_name": "transfer", "app_data": "1002 XML default"}],
                       "current_app": "transfer"},
         "caller_profile": profile("Alice Johnson", "+14155550142", "+14155550100", A, "public",
                                   "sofia/external/+14155550142@carrier.example.net"),
         "times": times(start, start, 0, 0, 0, transfer=prof2)}],
}

def encoded(doc):
    d = json.loads(json.dumps(doc))
    d["variables"] = {k: url_encode(v) for k, v in d["variables"].items()}
    return d

b_vars = {"direction": "outbound", "uuid": B, "session_id": "8", "originator": A, "originating_leg_uuid": A,
          "originator_codec": "PCMU@8000h@20i", "call_uuid": A, "signal_bond": A, "bridge_uuid": A,
          "sip_to_user": "1002", "sip_call_id": "3f9a2c1b-77e0-4c1d@10.0.0.5",
          "hangup_cause": "NORMAL_CLEARING", "hangup_cause_q850": "16"}
b_vars.update(timevars(us(1.7), answer, end))
b_doc = {"core-uuid": CORE, "switchname": "fs-pbx01",
         "channel_data": {"state": "CS_REPORTING", "direction": "outbound", "state_number": "11", "flags": "0=1;2=1", "caps": "1=1"},
         "callStats": {"audio": {"inbound": {"mos": 4.4}, "outbound": {}}},
         "variables": b_vars,
         "callflow": [{"dialplan": "XML", "profile_index": "1",
                       "caller_profile": dict(profile("Alice Johnson", "+14155550142", "1002", B, "default",
                                                      "sofia/internal/1002@10.0.0.22:5060", addr="10.0.0.22"),
                                              originator={"originator_caller_profiles": [
                                                  profile("Alice Johnson", "+14155550142", "1002", A, "default",
                                                          "sofia/external/+14155550142@carrier.example.net")]}),
                       "times": times(us(1.7), us(1.7), answer, bridge, end)}]}

# An old FreeSWITCH document: repeated "callflow" keys (newest first), no
# callStats, values not encoded. Internal call 1001 -> 1003, not answered.
O = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
os_, oe = us(3600), us(3620.5)
o_vars = {"direction": "inbound", "uuid": O, "caller_id": '"Alice Johnson" <1001>', "sip_call_id": "old-1@10.0.0.21",
          "hangup_cause": "ORIGINATOR_CANCEL", "hangup_cause_q850": "16", "dialed_user": "1003"}
o_vars.update(timevars(os_, 0, oe))
cf_new = {"dialplan": "XML", "profile_index": "2",
          "caller_profile": profile("Alice Johnson", "1001", "1003", O, "default", "sofia/internal/1001@10.0.0.21", addr="10.0.0.21"),
          "times": times(os_, us(3601), 0, 0, oe)}
cf_old = {"dialplan": "XML", "profile_index": "1",
          "caller_profile": profile("Alice Johnson", "1001", "2000", O, "default", "sofia/internal/1001@10.0.0.21", addr="10.0.0.21"),
          "times": times(os_, os_, 0, 0, 0, transfer=us(3601))}
old_text = ('{"core-uuid":"%s","switchname":"fs-old","channel_data":{"state":"CS_REPORTING","direction":"inbound"},'
            '"variables":%s,"callflow":%s,"callflow":%s}' % (CORE, dump(o_vars), dump(cf_new), dump(cf_old)))

# Outbound call from extension 1001 to the PSTN, callee busy; values encoded.
U = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
us_, ue = us(7200), us(7204)
u_vars = {"direction": "inbound", "uuid": U, "sip_call_id": "out-77@10.0.0.21", "call_uuid": U,
          "hangup_cause": "USER_BUSY", "hangup_cause_q850": "17", "last_app": "bridge",
          "last_arg": "sofia/gateway/carrier/+442071838750"}
u_vars.update(timevars(us_, 0, ue))
u_doc = {"core-uuid": CORE, "switchname": "fs-pbx01", "channel_data": {"direction": "inbound"}, "callStats": {},
         "variables": u_vars,
         "app_log": {"applications": [{"app_name": "bridge", "app_data": "sofia/gateway/carrier/+442071838750", "app_stamp": str(us_)}]},
         "callflow": [{"dialplan": "XML", "profile_index": "1",
                       "caller_profile": profile("Alice Johnson", "1001", "+442071838750", U, "default",
                                                 "sofia/internal/1001@10.0.0.21", addr="10.0.0.21"),
                       "times": times(us_, us_, 0, 0, ue)}]}

# Inbound call that went to voicemail (answered by the voicemail app).
V = "4c3b2a19-0817-4f6e-9d5c-4b3a29180706"
vs, va, ve = us(9000), us(9020), us(9051)
v_vars = {"direction": "inbound", "uuid": V, "call_uuid": V, "hangup_cause": "NORMAL_CLEARING",
          "caller_id": '"Sam Park" <+17185550177>'}
v_vars.update(timevars(vs, va, ve))
v_doc = {"core-uuid": CORE, "switchname": "fs-pbx01", "channel_data": {"direction": "inbound"},
         "variables": v_vars,
         "app_log": {"applications": [{"app_name": "answer", "app_data": "", "app_stamp": str(va)},
                                      {"app_name": "voicemail", "app_data": "default pbx.example.net 1004", "app_stamp": str(va)}]},
         "callflow": [{"dialplan": "XML", "profile_index": "1",
                       "caller_profile": profile("Sam Park", "+17185550177", "+14155550104", V, "public",
                                                 "sofia/external/+17185550177@carrier.example.net"),
                       "times": times(vs, vs, va, 0, ve)}]}

docs = {"a_%s.cdr.json" % A: dump(encoded(a_doc)), "%s.cdr.json" % B: dump(encoded(b_doc)),
        "a_%s.cdr.json" % O: old_text, "a_%s.cdr.json" % U: dump(encoded(u_doc)),
        "a_%s.cdr.json" % V: dump(encoded(v_doc))}
for name, text in docs.items():
    with open("freeswitch/" + name, "w", encoding="utf-8") as f:
        f.write(text + "\n")
with open("freeswitch-import.ndjson", "w", encoding="utf-8") as f:
    for text in docs.values():
        f.write(text + "\n")

plain = dump(a_doc).encode()
enc = dump(encoded(a_doc)).encode()
bodies = {
    "01-default.http": ("application/json", enc),
    "02-raw.http": ("application/json", plain),
    "03-form.http": ("application/x-www-form-urlencoded", b"cdr=" + url_encode(plain.decode()).encode()),
    "04-base64.http": ("application/x-www-form-base64-encoded", b"cdr=" + base64.b64encode(plain)),
    "05-nocontinue.http": ("application/x-www-form-urlencoded", plain),
    "06-double.http": ("application/x-www-form-urlencoded", b"cdr=" + url_encode(enc.decode()).encode()),
}
for name, (ct, body) in bodies.items():
    with open("freeswitch-http/" + name, "wb") as f:
        f.write(b"Content-Type: " + ct.encode() + b"\n\n" + body)
