-- 0001_router
create table "router_incidents" ("id" integer primary key autoincrement, "group_key" text not null, "open_key" varchar(64) unique, "cluster" varchar(255) not null, "alertname" varchar(255) not null, "scope" varchar(16) not null, "subject" varchar(512) not null, "title" text not null, "status" varchar(16) not null, "severity" integer not null, "paged_severity" integer not null, "cluster_priority" varchar(16) not null, "policy" text not null, "opened_at" bigint not null, "acknowledged_at" bigint, "acknowledged_by" varchar(255), "resolved_at" bigint, "resolved_by" varchar(255), "last_update_at" bigint, "ack_due_at" bigint, "update_due_at" bigint, "escalation_tier" integer not null, "postmortem" text);
create index "router_incidents_status" on "router_incidents" ("status", "opened_at");
create table "router_alerts" ("id" integer primary key autoincrement, "fingerprint" varchar(128) not null, "episode" integer not null, "open_key" varchar(128) unique, "incident_id" integer, "status" varchar(16) not null, "severity" integer not null, "labels" text not null, "annotations" text not null, "starts_at" bigint not null, "ends_at" bigint, "first_seen_at" bigint not null, "last_seen_at" bigint not null, "resolved_by" varchar(255), constraint "router_alerts_episode" unique ("fingerprint", "episode"));
create index "router_alerts_incident" on "router_alerts" ("incident_id");
create table "router_events" ("id" integer primary key autoincrement, "incident_id" integer not null, "at" bigint not null, "kind" varchar(32) not null, "actor" varchar(255) not null, "message" text not null);
create index "router_events_incident" on "router_events" ("incident_id", "id");
create table "router_timers" ("id" integer primary key autoincrement, "name" varchar(191) not null unique, "kind" varchar(32) not null, "due_at" bigint not null, "version" integer not null, "status" varchar(16) not null, "payload" text not null, "fired_at" bigint);
create index "router_timers_due" on "router_timers" ("status", "due_at");
create table "router_outbox" ("id" integer primary key autoincrement, "channel" varchar(32) not null, "kind" varchar(32) not null, "incident_id" integer, "target" text not null, "payload" text not null, "status" varchar(16) not null, "attempts" integer not null, "next_attempt_at" bigint not null, "lease_owner" varchar(64), "lease_until" bigint, "last_error" text, "created_at" bigint not null, "sent_at" bigint);
create index "router_outbox_due" on "router_outbox" ("status", "next_attempt_at");
create table "router_audit" ("id" integer primary key autoincrement, "at" bigint not null, "actor" varchar(255) not null, "event" varchar(64) not null, "subject" varchar(512) not null, "detail" text not null);
create table "router_actions" ("id" integer primary key autoincrement, "incident_id" integer not null, "alert_id" integer not null unique, "job" varchar(512) not null, "owner" varchar(255) not null, "action" varchar(16) not null, "reason" text not null, "status" varchar(16) not null, "created_at" bigint not null, "grace_until" bigint not null, "requested_at" bigint, "finished_at" bigint, "result" text);
create index "router_actions_requested" on "router_actions" ("requested_at");
create table "router_settings" ("name" varchar(64) primary key, "value" text not null);
-- 0002_floods_watchdog
alter table "router_incidents" add column "hidden_alerts" integer default 0 not null;
create table "router_page_counts" ("receiver" varchar(255) not null, "window_start" bigint not null, "sent" integer not null, "held" integer not null, "held_incidents" text not null, constraint "router_page_counts_pk" primary key ("receiver", "window_start"));
create table "router_watchdogs" ("cluster" varchar(255) primary key, "last_seen_at" bigint not null, "silent_since" bigint);
-- 0003_action_cause
alter table "router_actions" add column "cause" varchar(32) default 'low-utilization' not null;
-- 0004_action_renewal
alter table "router_actions" add column "policy" varchar(16) default 'default' not null;
alter table "router_actions" add column "renewals" integer default 0 not null;
alter table "router_actions" add column "renewed_ms" bigint default 0 not null;
alter table "router_actions" add column "reminders_sent" integer default 0 not null;
alter table "router_actions" add column "reminders_delivered" integer default 0 not null;
