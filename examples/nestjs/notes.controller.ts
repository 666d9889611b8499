import { setTimeout as sleep } from "node:timers/promises";
import { Body, Controller, Get, Post, Query } from "@nestjs/common";
import { currentTenant, type RoutedRepository } from "typeorm-router";
import { InjectRoutedRepository } from "typeorm-router/nestjs";
import { Note } from "./entities/note.entity";

/** The tenant's notes: every call goes to the database of the request's tenant. */
@Controller("notes")
export class NotesController {
  // A singleton: the repository resolves the tenant's database on every call.
  constructor(@InjectRoutedRepository(Note) private readonly notes: RoutedRepository<Note>) {}

  /** Every note of the tenant. */
  @Get()
  list(): Promise<Note[]> {
    return this.notes.find({ order: { id: "ASC" } });
  }

  /** Stores a note; `?delayMs=` waits first, so concurrent requests interleave. */
  @Post()
  async create(
    @Body() input: { body: string },
    @Query("delayMs") delayMs?: string,
  ): Promise<Note & { tenant: string | undefined }> {
    if (delayMs) await sleep(Number(delayMs));
    const note = await this.notes.save({ body: input.body });
    return { ...note, tenant: currentTenant() };
  }
}
