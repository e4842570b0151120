-- Notification service: the users' notifications, their preferences, and the outbox of
-- deliveries to outgoing channels (webhook, email).
--
-- Users reach their own rows through RLS (policies on (select auth.uid())). The service
-- reads and writes a user's rows inside a transaction carrying that user's claims
-- (servicekit.db.rls.user_transaction). Two things are written by the service role
-- itself, still bound to the claims of the transaction: a new notification and its
-- delivery rows (users may read their notifications, never forge one). The delivery
-- dispatcher claims due deliveries across users through policies TO notification_service.

-- ---------------------------------------------------------------------------
-- Notifications
-- ---------------------------------------------------------------------------
create table public.user_notifications (
    id              uuid primary key default gen_random_uuid(),
    user_id         uuid not null references auth.users (id) on delete cascade,
    type            text not null check (type in (
                        'trade_executed', 'trade_blocked', 'risk_alert', 'strategy_paused',
                        'kill_switch', 'backtest_completed', 'backtest_failed', 'order_failed',
                        'strategy_update', 'system')),
    severity        text not null
                        check (severity in ('info', 'success', 'warning', 'error', 'critical')),
    title           text not null check (length(btrim(title)) between 1 and 200),
    body            text not null default '' check (length(body) <= 2000),
    data            jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
    -- Not a foreign key: strategies belong to the executor service.
    strategy_id     uuid,
    -- The caller's key for the event: the same event delivered twice is stored once.
    idempotency_key text not null check (length(idempotency_key) between 1 and 200),
    read_at         timestamptz,
    -- Deleted notifications are kept (hidden) so a late duplicate of the same event is
    -- still recognised by its idempotency key instead of reappearing.
    deleted_at      timestamptz,
    created_at      timestamptz not null default now(),
    constraint user_notifications_idempotency_key unique (user_id, idempotency_key)
);

-- Listing newest first with keyset pagination: (created_at, id) descending.
create index user_notifications_feed_idx
    on public.user_notifications (user_id, created_at desc, id desc)
    where deleted_at is null;
-- Unread count and the unread-only listing read only this small partial index.
create index user_notifications_unread_idx
    on public.user_notifications (user_id, created_at desc, id desc)
    where read_at is null and deleted_at is null;

-- Live fan-out: every stored notification is announced on channel 'user_notifications'
-- with only its id and user; listeners read the row under the user's RLS.
create function public.announce_user_notification() returns trigger
    language plpgsql
    set search_path = ''
as $$
begin
    perform pg_notify(
        'user_notifications',
        json_build_object('id', new.id, 'user_id', new.user_id)::text
    );
    return null;
end;
$$;

create trigger user_notifications_announce
    after insert on public.user_notifications
    for each row execute function public.announce_user_notification();

-- Unread-count caches (one per replica) drop a user's count whenever it may have changed:
-- a notification read, deleted (hidden) or removed is announced on the same channel with
-- only the user. Identical payloads in one transaction reach listeners once, so marking a
-- thousand notifications read announces the user once.
create function public.announce_unread_change() returns trigger
    language plpgsql
    set search_path = ''
as $$
begin
    perform pg_notify(
        'user_notifications',
        json_build_object('user_id', case when tg_op = 'DELETE' then old.user_id
                                          else new.user_id end)::text
    );
    return null;
end;
$$;

create trigger user_notifications_announce_unread_change
    after update of read_at, deleted_at on public.user_notifications
    for each row
    when (old.read_at is distinct from new.read_at
          or old.deleted_at is distinct from new.deleted_at)
    execute function public.announce_unread_change();

create trigger user_notifications_announce_removal
    after delete on public.user_notifications
    for each row execute function public.announce_unread_change();

-- ---------------------------------------------------------------------------
-- Preferences (no row = the defaults: everything on, no outgoing channel)
-- ---------------------------------------------------------------------------
create table public.notification_preferences (
    user_id               uuid primary key references auth.users (id) on delete cascade,
    -- Master switch; critical types (strategy_paused, kill_switch) are stored anyway.
    notifications_enabled boolean not null default true,
    -- Per-type switches: the types listed here are not stored (unless critical).
    muted_types           text[] not null default '{}' check (muted_types <@ array[
                              'trade_executed', 'trade_blocked', 'risk_alert', 'strategy_paused',
                              'kill_switch', 'backtest_completed', 'backtest_failed',
                              'order_failed', 'strategy_update', 'system']::text[]),
    -- Outgoing channels switched on; the in-app feed is always on.
    channels              text[] not null default '{}'
                              check (channels <@ array['webhook', 'email']::text[]),
    webhook_url           text check (webhook_url ~ '^https?://[^/\s]+' and length(webhook_url) <= 2000),
    webhook_secret        text check (length(webhook_secret) between 16 and 200),
    email_address         text check (email_address ~ '^[^@\s]+@[^@\s]+$' and length(email_address) <= 320),
    updated_at            timestamptz not null default now(),
    check (not ('webhook' = any (channels)) or (webhook_url is not null and webhook_secret is not null)),
    check (not ('email' = any (channels)) or email_address is not null)
);

-- ---------------------------------------------------------------------------
-- Deliveries to outgoing channels (an outbox written with the notification)
-- ---------------------------------------------------------------------------
create table public.notification_deliveries (
    id              bigint generated always as identity primary key,
    notification_id uuid not null references public.user_notifications (id) on delete cascade,
    user_id         uuid not null references auth.users (id) on delete cascade,
    channel         text not null check (channel in ('webhook', 'email')),
    status          text not null default 'pending'
                        check (status in ('pending', 'delivered', 'failed')),
    attempts        integer not null default 0 check (attempts >= 0),
    -- When a pending delivery is next due; a claim pushes it forward (a lease), so a
    -- dispatcher that dies mid-send leaves it to be retried by another.
    next_attempt_at timestamptz not null default now(),
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint notification_deliveries_once unique (notification_id, channel)
);

create index notification_deliveries_due_idx
    on public.notification_deliveries (next_attempt_at) where status = 'pending';
create index notification_deliveries_user_idx
    on public.notification_deliveries (user_id, created_at desc);

-- ---------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------
alter table public.user_notifications enable row level security;
alter table public.notification_preferences enable row level security;
alter table public.notification_deliveries enable row level security;

-- A user: their own notifications (read, mark read, delete = hide).
create policy user_notifications_owner_read on public.user_notifications
    for select to authenticated using (user_id = (select auth.uid()));
create policy user_notifications_owner_update on public.user_notifications
    for update to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- A user: their own preferences.
create policy notification_preferences_owner on public.notification_preferences
    for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- A user: the delivery status of their own notifications (read only).
create policy notification_deliveries_owner_read on public.notification_deliveries
    for select to authenticated using (user_id = (select auth.uid()));

-- The service, storing a notification: only for the user whose claims the transaction
-- carries, and it reads back only that user's rows (idempotent replay).
create policy user_notifications_service_insert on public.user_notifications
    for insert to notification_service with check (user_id = (select auth.uid()));
create policy user_notifications_service_read on public.user_notifications
    for select to notification_service using (user_id = (select auth.uid()));
create policy notification_deliveries_service_insert on public.notification_deliveries
    for insert to notification_service with check (user_id = (select auth.uid()));

-- The dispatcher (cross-user): claims due deliveries and records their outcome. It reads
-- the notification and the destination under the owner's claims, not through this policy.
create policy notification_deliveries_dispatcher on public.notification_deliveries
    for select to notification_service using (true);
create policy notification_deliveries_dispatcher_update on public.notification_deliveries
    for update to notification_service using (true) with check (true);

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
grant select, insert on public.user_notifications to notification_service;
grant select, insert, update on public.notification_deliveries to notification_service;

grant select on public.user_notifications to authenticated;
grant update (read_at, deleted_at) on public.user_notifications to authenticated;
grant select, insert, update, delete on public.notification_preferences to authenticated;
grant select on public.notification_deliveries to authenticated;
