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

-- section: executor (demo strategies)
