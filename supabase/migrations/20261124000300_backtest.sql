-- Backtest service: backtest jobs and their results, the market data cache, and the
-- community marketplace (published strategies and their ratings).
--
-- Who may do what:
--   authenticated     reads and submits its own backtests, cancels its own queued/running
--                     ones; reads public community strategies, publishes its own, rates
--                     others' once each (changeable).
--   backtest_service  claims jobs across users (FOR UPDATE SKIP LOCKED), writes progress and
--                     results, verifies community strategies (the only role that may set
--                     is_verified), and owns the market data cache.

-- ---------------------------------------------------------------------------------------
-- backtests: one row per job; the row is the queue.
-- ---------------------------------------------------------------------------------------
create table public.backtests (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  strategy_id uuid,  -- the user's strategy (executor-owned): no FK across services
  kind text not null default 'user' check (kind in ('user', 'verification')),
  status text not null default 'queued'
    check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  progress double precision not null default 0 check (progress >= 0 and progress <= 1),
  error text,
  -- What to run (a snapshot: later edits of the strategy do not change this run).
  config jsonb not null,
  symbol text not null check (length(symbol) between 1 and 32),
  timeframe text not null check (timeframe in ('1m', '5m', '15m', '1h', '1d')),
  start_at timestamptz not null,
  end_at timestamptz not null,
  initial_capital numeric(20, 8) not null check (initial_capital > 0),
  data_source text not null default 'synthetic' check (data_source in ('synthetic', 'alpaca')),
  seed bigint not null default 0,
  execution jsonb not null default '{}'::jsonb,
  -- Results.
  metrics jsonb,
  equity_curve jsonb,
  trades jsonb,
  risk_score numeric(7, 2),
  risk_score_status text not null default 'pending'
    check (risk_score_status in ('pending', 'scored', 'unavailable')),
  risk_score_note text,
  notified_at timestamptz,
  -- Job claiming: a running job belongs to claimed_by until lease_expires_at; a worker
  -- that stops heartbeating loses it and another worker claims it again.
  claimed_by text,
  attempts integer not null default 0 check (attempts >= 0),
  heartbeat_at timestamptz,
  lease_expires_at timestamptz,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint backtests_period_ordered check (end_at > start_at),
  constraint backtests_running_is_leased
    check (status <> 'running' or (claimed_by is not null and lease_expires_at is not null)),
  constraint backtests_finished_has_time
    check (status not in ('completed', 'failed', 'cancelled') or completed_at is not null),
  constraint backtests_completed_has_metrics check (status <> 'completed' or metrics is not null),
  constraint backtests_scored_has_score check (risk_score_status <> 'scored' or risk_score is not null)
);

comment on table public.backtests is
  'Backtest jobs and results (backtest_service). The row is the job queue.';

-- The "recent completed" query: a user's completed runs, newest first (ListBacktests).
create index backtests_recent_completed_idx
  on public.backtests (user_id, completed_at desc, id desc)
  where status = 'completed' and kind = 'user';
-- Claiming: oldest queued job first; expired leases of running jobs.
create index backtests_queued_idx on public.backtests (created_at) where status = 'queued';
create index backtests_running_lease_idx
  on public.backtests (lease_expires_at) where status = 'running';
-- Quotas: a user's active jobs and submissions in the last hour.
create index backtests_user_created_idx on public.backtests (user_id, created_at desc);
create index backtests_strategy_idx on public.backtests (strategy_id) where strategy_id is not null;

-- Watchers on any replica learn of progress and the end of a job without polling hard.
create function public.notify_backtest_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT'
     or new.status is distinct from old.status
     or new.progress is distinct from old.progress then
    perform pg_notify(
      'backtest_progress',
      json_build_object('id', new.id, 'status', new.status, 'progress', new.progress)::text
    );
  end if;
  return null;
end;
$$;

create trigger backtests_notify_change
  after insert or update on public.backtests
  for each row execute function public.notify_backtest_change();

alter table public.backtests enable row level security;

create policy backtests_select_own on public.backtests
  for select to authenticated
  using (user_id = (select auth.uid()));

create policy backtests_insert_own on public.backtests
  for insert to authenticated
  with check (user_id = (select auth.uid()) and status = 'queued' and kind = 'user');

-- A user may only move their own unfinished job to cancelled.
create policy backtests_cancel_own on public.backtests
  for update to authenticated
  using (user_id = (select auth.uid()) and status in ('queued', 'running'))
  with check (user_id = (select auth.uid()) and status = 'cancelled');

create policy backtests_service_all on public.backtests
  for all to backtest_service
  using (true)
  with check (true);

grant select on public.backtests to authenticated;
grant insert (user_id, strategy_id, config, symbol, timeframe, start_at, end_at,
              initial_capital, data_source, seed, execution)
  on public.backtests to authenticated;
grant update (status, error, completed_at, updated_at) on public.backtests to authenticated;
grant select, insert, update, delete on public.backtests to backtest_service;

-- ---------------------------------------------------------------------------------------
-- market_data_cache: bars fetched from a remote source, kept so reruns do not refetch.
-- ---------------------------------------------------------------------------------------
create table public.market_data_cache (
  source text not null check (source in ('synthetic', 'alpaca', 'file')),
  symbol text not null,
  timeframe text not null check (timeframe in ('1m', '5m', '15m', '1h', '1d')),
  start_at timestamptz not null,
  end_at timestamptz not null,
  bar_count integer not null check (bar_count >= 0),
  bars bytea not null,  -- compressed columnar bars (format named in "encoding")
  encoding text not null,
  created_at timestamptz not null default now(),
  primary key (source, symbol, timeframe, start_at, end_at),
  check (end_at > start_at)
);

comment on table public.market_data_cache is 'Bars cache of the backtest service (no user data).';

alter table public.market_data_cache enable row level security;

create policy market_data_cache_service_all on public.market_data_cache
  for all to backtest_service
  using (true)
  with check (true);

grant select, insert, update, delete on public.market_data_cache to backtest_service;

-- ---------------------------------------------------------------------------------------
-- community_strategies: published copies of users' strategy configs.
-- ---------------------------------------------------------------------------------------
create table public.community_strategies (
  id uuid primary key default gen_random_uuid(),
  author_id uuid not null references auth.users (id) on delete cascade,
  source_strategy_id uuid,  -- executor-owned: no FK across services
  name text not null check (length(name) between 1 and 100),
  description text not null default '' check (length(description) <= 2000),
  config jsonb not null,
  strategy_type text not null
    check (strategy_type in ('dca', 'spot_grid', 'rsi_reversion', 'sma_crossover', 'buy_and_hold')),
  is_public boolean not null default true,
  -- Set only by backtest_service after its own verification backtest (column grants).
  is_verified boolean not null default false,
  verification_status text not null default 'pending'
    check (verification_status in ('pending', 'verified', 'failed')),
  verification_backtest_id uuid references public.backtests (id) on delete set null,
  verification_metrics jsonb,
  verification_return_pct numeric(20, 6),
  verification_error text,
  risk_score numeric(7, 2),
  risk_score_note text,
  verified_at timestamptz,
  -- Kept exact by the strategy_ratings trigger, in the rating's own transaction.
  rating_sum bigint not null default 0 check (rating_sum >= 0),
  rating_count integer not null default 0 check (rating_count >= 0),
  rating_average numeric(6, 4) generated always as (
    case when rating_count = 0 then 0 else round(rating_sum::numeric / rating_count, 4) end
  ) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint community_strategies_verified_consistent
    check (is_verified = (verification_status = 'verified')),
  constraint community_strategies_verified_has_time check (not is_verified or verified_at is not null),
  constraint community_strategies_rating_bounds
    check (rating_sum between rating_count and 5::bigint * rating_count)
);

comment on table public.community_strategies is
  'Community marketplace listings (backtest_service); is_verified is set by the service only.';

-- Marketplace sorts over public listings.
create index community_strategies_rating_idx
  on public.community_strategies (rating_average desc, rating_count desc, id)
  where is_public;
create index community_strategies_return_idx
  on public.community_strategies (verification_return_pct desc nulls last, id)
  where is_public;
create index community_strategies_risk_idx
  on public.community_strategies (risk_score asc nulls last, id)
  where is_public;
create index community_strategies_newest_idx
  on public.community_strategies (created_at desc, id)
  where is_public;
create index community_strategies_author_idx on public.community_strategies (author_id);
create index community_strategies_verification_backtest_idx
  on public.community_strategies (verification_backtest_id);
-- Strategies still waiting for a verification job (the service's sweep).
create index community_strategies_unscheduled_idx
  on public.community_strategies (created_at)
  where verification_status = 'pending' and verification_backtest_id is null;

alter table public.community_strategies enable row level security;

create policy community_strategies_select_public_or_own on public.community_strategies
  for select to authenticated
  using (is_public or author_id = (select auth.uid()));

create policy community_strategies_insert_own on public.community_strategies
  for insert to authenticated
  with check (author_id = (select auth.uid()));

create policy community_strategies_update_own on public.community_strategies
  for update to authenticated
  using (author_id = (select auth.uid()))
  with check (author_id = (select auth.uid()));

create policy community_strategies_service_all on public.community_strategies
  for all to backtest_service
  using (true)
  with check (true);

grant select on public.community_strategies to authenticated;
grant insert (author_id, source_strategy_id, name, description, config, strategy_type, is_public)
  on public.community_strategies to authenticated;
grant update (name, description, is_public, updated_at) on public.community_strategies to authenticated;
grant select, insert, update, delete on public.community_strategies to backtest_service;

-- ---------------------------------------------------------------------------------------
-- strategy_ratings: one rating per user and strategy, 1..5, changeable.
-- ---------------------------------------------------------------------------------------
create table public.strategy_ratings (
  community_strategy_id uuid not null references public.community_strategies (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  rating smallint not null check (rating between 1 and 5),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (community_strategy_id, user_id)
);

comment on table public.strategy_ratings is 'Ratings of community strategies (backtest_service).';

create index strategy_ratings_user_idx on public.strategy_ratings (user_id);

-- Keeps community_strategies.rating_sum / rating_count exact. It runs in the rating's own
-- transaction and updates the listing with a relative increment, so concurrent ratings
-- serialise on the listing's row lock and none is lost. SECURITY DEFINER: the rater may
-- not write the rating columns themselves.
create function public.apply_strategy_rating_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    update public.community_strategies
       set rating_sum = rating_sum - old.rating,
           rating_count = rating_count - 1
     where id = old.community_strategy_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    update public.community_strategies
       set rating_sum = rating_sum + new.rating,
           rating_count = rating_count + 1
     where id = new.community_strategy_id;
  end if;
  return null;
end;
$$;

revoke all on function public.apply_strategy_rating_change() from public;

create trigger strategy_ratings_apply_change
  after insert or update or delete on public.strategy_ratings
  for each row execute function public.apply_strategy_rating_change();

alter table public.strategy_ratings enable row level security;

create policy strategy_ratings_select_own on public.strategy_ratings
  for select to authenticated
  using (user_id = (select auth.uid()));

-- Only public listings by someone else may be rated.
create policy strategy_ratings_insert_own on public.strategy_ratings
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and exists (
      select 1 from public.community_strategies c
       where c.id = community_strategy_id
         and c.is_public
         and c.author_id <> (select auth.uid())
    )
  );

create policy strategy_ratings_update_own on public.strategy_ratings
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

create policy strategy_ratings_service_all on public.strategy_ratings
  for all to backtest_service
  using (true)
  with check (true);

grant select on public.strategy_ratings to authenticated;
grant insert (community_strategy_id, user_id, rating) on public.strategy_ratings to authenticated;
grant update (rating, updated_at) on public.strategy_ratings to authenticated;
grant select, insert, update, delete on public.strategy_ratings to backtest_service;
