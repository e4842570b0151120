-- Demo data, applied after the migrations by `python -m servicekit.db.migrate --seed`
-- (`make run` and the test template do this) or by `supabase db reset` on a Supabase
-- project. Every statement is idempotent (ON CONFLICT DO NOTHING): applying the seed
-- twice changes nothing. It runs as the migration user, in one transaction.

-- section: demo user
-- A fixed id, so docs and `make token USER=...` can name it.
insert into auth.users (id, email)
values ('00000000-0000-4000-8000-000000000001', 'demo@example.com')
on conflict do nothing;

-- section: risk (platform defaults, demo profile)
-- The platform's default limits ship in the risk migration (a production project needs
-- them and never runs the seed); here only the demo user's profile: tier 'pro', risk
-- tolerance 'medium', paper mode on. The profile row may already exist (created by the
-- trigger on auth.users with the defaults), so this sets the demo values either way.
insert into public.user_profiles (id, display_name, subscription_tier, risk_tolerance, paper_mode)
values ('00000000-0000-4000-8000-000000000001', 'Demo trader', 'pro', 'medium', true)
on conflict (id) do update
set display_name = excluded.display_name,
    subscription_tier = excluded.subscription_tier,
    risk_tolerance = excluded.risk_tolerance,
    paper_mode = excluded.paper_mode;

-- section: executor (demo strategies)
