import { Body, Controller, Get, Post } from "@nestjs/common";
import type { RoutedRepository } from "typeorm-router";
import { InjectRoutedRepository, TenantOptional } from "typeorm-router/nestjs";
import { Plan } from "./entities/plan.entity";

/** The plans of the read-only `catalog` database, shared by every tenant. */
@TenantOptional()
@Controller("plans")
export class PlansController {
  constructor(@InjectRoutedRepository(Plan) private readonly plans: RoutedRepository<Plan>) {}

  /** Every plan. */
  @Get()
  list(): Promise<Plan[]> {
    return this.plans.find({ order: { id: "ASC" } });
  }

  /** Refused: `catalog` is read-only (ReadOnlyDatabaseError, answered with 403). */
  @Post()
  create(@Body() input: { id: number; name: string }): Promise<Plan> {
    return this.plans.save(input);
  }
}
