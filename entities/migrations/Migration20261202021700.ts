import { Migration } from '@mikro-orm/migrations';

/**
 * Voice profiles (`speaker_profiles`) and the links of diarized speakers to them (`speaker_links`).
 * Hand-written, kept equal to what MikroORM derives from entities/speaker.ts (tests/speakers.e2e.test.ts
 * checks the schema diff of both tables).
 */
export class Migration20261202021700 extends Migration {
  override up(): void {
    this.addSql(`
      create table "speaker_profiles" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "display_name" varchar(200) not null,
        "sample_key" varchar(300) null,
        "sample_mime_type" varchar(100) null,
        "sample_size_bytes" bigint null,
        "sample_filename" varchar(255) null,
        "sample_uploaded_at" timestamptz null,
        "created_by_user_id" uuid null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        primary key ("id"),
        constraint "speaker_profiles_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade
      );`);
    this.addSql(`create index "speaker_profiles_organization_id_index" on "speaker_profiles" ("organization_id");`);
    this.addSql(`
      create table "speaker_links" (
        "id" uuid not null default gen_random_uuid(),
        "organization_id" uuid not null,
        "job_id" uuid not null,
        "speaker_label" varchar(64) not null,
        "profile_id" uuid not null,
        "confidence" double precision not null default 1,
        "method" text not null default 'manual',
        "linked_by_user_id" uuid null,
        "linked_at" timestamptz not null default now(),
        primary key ("id"),
        constraint "speaker_links_confidence_check" check (confidence::numeric >= 0 and confidence::numeric <= 1),
        constraint "speaker_links_method_check" check ("method" in ('manual')),
        constraint "speaker_links_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on delete cascade,
        constraint "speaker_links_job_id_foreign" foreign key ("job_id") references "processing_jobs" ("id") on delete cascade,
        constraint "speaker_links_profile_id_foreign" foreign key ("profile_id") references "speaker_profiles" ("id") on delete cascade
      );`);
    this.addSql(`create index "speaker_links_profile_id_index" on "speaker_links" ("profile_id");`);
    this.addSql(`alter table "speaker_links" add constraint "speaker_links_job_id_speaker_label_unique" unique ("job_id", "speaker_label");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "speaker_links";`);
    this.addSql(`drop table if exists "speaker_profiles";`);
  }
}
