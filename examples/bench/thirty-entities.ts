import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryGeneratedColumn,
  type Relation,
  Tree,
  TreeChildren,
  TreeParent,
  Unique,
  UpdateDateColumn,
  VersionColumn,
} from "typeorm";
import { External } from "typeorm-router";

// A realistic tenant model for the heap-per-tenant bench: 30 @External entities of a small
// SaaS (accounts, projects, billing, stock), with many-to-one / one-to-many / one-to-one /
// many-to-many relations (junction tables), a closure-table tree, varied columns, and single
// and composite indexes and uniques. Column types are explicit and exist on both
// better-sqlite3 and PostgreSQL; dates rely on emitted decorator metadata (tsc). Single-valued
// relations are typed Relation<T>, so that the emitted metadata never names a later class.

/** Columns most rows have: an id and two timestamps. */
abstract class Row {
  @PrimaryGeneratedColumn()
  id!: number;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}

@External()
@Entity("bench_account")
class Account extends Row {
  @Column({ type: "varchar", length: 120 })
  name!: string;

  @Index({ unique: true })
  @Column({ type: "varchar", length: 63 })
  slug!: string;

  @Column({ type: "simple-enum", enum: ["free", "team", "enterprise"], default: "free" })
  plan!: string;

  @Column({ type: "boolean", default: true })
  active!: boolean;

  @OneToMany(() => User, (user) => user.account)
  users!: User[];

  @OneToMany(() => Project, (project) => project.account)
  projects!: Project[];
}

@External()
@Entity("bench_user")
@Index(["account", "email"], { unique: true })
class User extends Row {
  @Column({ type: "varchar", length: 254 })
  email!: string;

  @Column({ type: "varchar", length: 120, nullable: true })
  displayName!: string | null;

  @Column({ type: "varchar", length: 100, nullable: true })
  passwordHash!: string | null;

  @Column({ type: "boolean", default: false })
  admin!: boolean;

  @Column({ type: "integer", default: 0 })
  loginCount!: number;

  @ManyToOne(() => Account, (account) => account.users, { onDelete: "CASCADE" })
  account!: Relation<Account>;

  @ManyToMany(() => Role, (role) => role.users)
  @JoinTable({ name: "bench_user_role" })
  roles!: Role[];

  @ManyToMany(() => Team, (team) => team.members)
  teams!: Team[];

  @OneToOne(() => UserProfile, (profile) => profile.user)
  profile!: Relation<UserProfile>;
}

@External()
@Entity("bench_user_profile")
class UserProfile extends Row {
  @Column({ type: "text", nullable: true })
  bio!: string | null;

  @Column({ type: "varchar", length: 64, default: "UTC" })
  timeZone!: string;

  @Column({ type: "varchar", length: 16, default: "en" })
  locale!: string;

  @Column({ type: "simple-json", nullable: true })
  preferences!: Record<string, unknown> | null;

  @OneToOne(() => User, (user) => user.profile, { onDelete: "CASCADE" })
  @JoinColumn()
  user!: Relation<User>;
}

@External()
@Entity("bench_role")
@Unique(["name"])
class Role extends Row {
  @Column({ type: "varchar", length: 60 })
  name!: string;

  @Column({ type: "text", nullable: true })
  description!: string | null;

  @ManyToMany(() => User, (user) => user.roles)
  users!: User[];

  @ManyToMany(() => Permission, (permission) => permission.roles)
  @JoinTable({ name: "bench_role_permission" })
  permissions!: Permission[];
}

@External()
@Entity("bench_permission")
class Permission {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index({ unique: true })
  @Column({ type: "varchar", length: 80 })
  code!: string;

  @Column({ type: "varchar", length: 200 })
  label!: string;

  @ManyToMany(() => Role, (role) => role.permissions)
  roles!: Role[];
}

@External()
@Entity("bench_team")
class Team extends Row {
  @Column({ type: "varchar", length: 120 })
  name!: string;

  @ManyToOne(() => Account, { onDelete: "CASCADE" })
  account!: Relation<Account>;

  @ManyToMany(() => User, (user) => user.teams)
  @JoinTable({ name: "bench_team_member" })
  members!: User[];
}

@External()
@Entity("bench_project")
@Index(["account", "key"], { unique: true })
class Project extends Row {
  @Column({ type: "varchar", length: 10 })
  key!: string;

  @Column({ type: "varchar", length: 200 })
  name!: string;

  @Column({ type: "text", nullable: true })
  description!: string | null;

  @Column({ type: "date", nullable: true })
  dueOn!: string | null;

  @Column({ type: "boolean", default: false })
  archived!: boolean;

  @ManyToOne(() => Account, (account) => account.projects, { onDelete: "CASCADE" })
  account!: Relation<Account>;

  @ManyToOne(() => User, { nullable: true, onDelete: "SET NULL" })
  owner!: Relation<User> | null;

  @OneToMany(() => Task, (task) => task.project)
  tasks!: Task[];
}

@External()
@Entity("bench_task")
@Index(["project", "status"])
class Task extends Row {
  @Column({ type: "varchar", length: 300 })
  title!: string;

  @Column({ type: "text", nullable: true })
  body!: string | null;

  @Column({
    type: "simple-enum",
    enum: ["todo", "doing", "review", "done"],
    default: "todo",
  })
  status!: string;

  @Column({ type: "integer", default: 0 })
  priority!: number;

  @Column({ type: "decimal", precision: 6, scale: 2, nullable: true })
  estimateHours!: string | null;

  @VersionColumn()
  version!: number;

  @ManyToOne(() => Project, (project) => project.tasks, { onDelete: "CASCADE" })
  project!: Relation<Project>;

  @ManyToOne(() => User, { nullable: true })
  assignee!: Relation<User> | null;

  @ManyToMany(() => Tag, (tag) => tag.tasks)
  @JoinTable({ name: "bench_task_tag" })
  tags!: Tag[];

  @OneToMany(() => TaskComment, (comment) => comment.task)
  comments!: TaskComment[];
}

@External()
@Entity("bench_task_comment")
class TaskComment extends Row {
  @Column({ type: "text" })
  body!: string;

  @Column({ type: "boolean", default: false })
  edited!: boolean;

  @ManyToOne(() => Task, (task) => task.comments, { onDelete: "CASCADE" })
  task!: Relation<Task>;

  @ManyToOne(() => User)
  author!: Relation<User>;
}

@External()
@Entity("bench_tag")
class Tag {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index({ unique: true })
  @Column({ type: "varchar", length: 50 })
  name!: string;

  @Column({ type: "varchar", length: 7, default: "#888888" })
  color!: string;

  @ManyToMany(() => Task, (task) => task.tags)
  tasks!: Task[];
}

@External()
@Entity("bench_attachment")
class Attachment extends Row {
  @Column({ type: "varchar", length: 255 })
  fileName!: string;

  @Column({ type: "varchar", length: 100 })
  contentType!: string;

  @Column({ type: "integer" })
  sizeBytes!: number;

  @Index()
  @Column({ type: "varchar", length: 64 })
  sha256!: string;

  @ManyToOne(() => Task, { onDelete: "CASCADE" })
  task!: Relation<Task>;
}

@External()
@Entity("bench_customer")
class Customer extends Row {
  @Column({ type: "varchar", length: 200 })
  name!: string;

  @Index()
  @Column({ type: "varchar", length: 254, nullable: true })
  email!: string | null;

  @Column({ type: "varchar", length: 40, nullable: true })
  phone!: string | null;

  @Column({ type: "varchar", length: 32, nullable: true })
  vatNumber!: string | null;

  @Column({ type: "simple-array", nullable: true })
  labels!: string[] | null;

  @OneToMany(() => Address, (address) => address.customer)
  addresses!: Address[];
}

@External()
@Entity("bench_address")
class Address {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 200 })
  line1!: string;

  @Column({ type: "varchar", length: 200, nullable: true })
  line2!: string | null;

  @Column({ type: "varchar", length: 100 })
  city!: string;

  @Column({ type: "varchar", length: 20 })
  postalCode!: string;

  @Column({ type: "varchar", length: 2 })
  country!: string;

  @ManyToOne(() => Customer, (customer) => customer.addresses, { onDelete: "CASCADE" })
  customer!: Relation<Customer>;
}

@External()
@Entity("bench_product_category")
@Tree("closure-table")
class ProductCategory {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 100 })
  name!: string;

  @TreeChildren()
  children!: ProductCategory[];

  @TreeParent()
  parent!: Relation<ProductCategory> | null;
}

@External()
@Entity("bench_product")
class Product extends Row {
  @Index({ unique: true })
  @Column({ type: "varchar", length: 40 })
  sku!: string;

  @Column({ type: "varchar", length: 200 })
  name!: string;

  @Column({ type: "decimal", precision: 12, scale: 2 })
  price!: string;

  @Column({ type: "boolean", default: true })
  sellable!: boolean;

  @Column({ type: "integer", nullable: true })
  weightGrams!: number | null;

  @ManyToOne(() => ProductCategory, { nullable: true })
  category!: Relation<ProductCategory> | null;

  @ManyToOne(() => Supplier, { nullable: true })
  supplier!: Relation<Supplier> | null;
}

@External()
@Entity("bench_order")
@Index(["customer", "placedAt"])
class Order extends Row {
  @Index({ unique: true })
  @Column({ type: "varchar", length: 20 })
  number!: string;

  @Column({
    type: "simple-enum",
    enum: ["draft", "placed", "paid", "shipped", "cancelled"],
    default: "draft",
  })
  state!: string;

  @Column({ type: "varchar", length: 30, nullable: true })
  placedAt!: string | null;

  @Column({ type: "decimal", precision: 12, scale: 2, default: 0 })
  total!: string;

  @ManyToOne(() => Customer)
  customer!: Relation<Customer>;

  @ManyToOne(() => Address, { nullable: true })
  shippingAddress!: Relation<Address> | null;

  @OneToMany(() => OrderLine, (line) => line.order)
  lines!: OrderLine[];
}

@External()
@Entity("bench_order_line")
class OrderLine {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer" })
  quantity!: number;

  @Column({ type: "decimal", precision: 12, scale: 2 })
  unitPrice!: string;

  @Column({ type: "decimal", precision: 5, scale: 2, default: 0 })
  discountPercent!: string;

  @ManyToOne(() => Order, (order) => order.lines, { onDelete: "CASCADE" })
  order!: Relation<Order>;

  @ManyToOne(() => Product)
  product!: Relation<Product>;
}

@External()
@Entity("bench_invoice")
class Invoice extends Row {
  @Index({ unique: true })
  @Column({ type: "varchar", length: 20 })
  number!: string;

  @Column({ type: "date" })
  issuedOn!: string;

  @Column({ type: "date", nullable: true })
  dueOn!: string | null;

  @Column({ type: "decimal", precision: 12, scale: 2 })
  amount!: string;

  @Column({ type: "boolean", default: false })
  paid!: boolean;

  @ManyToOne(() => Customer)
  customer!: Relation<Customer>;

  @OneToOne(() => Order, { nullable: true })
  @JoinColumn()
  order!: Relation<Order> | null;

  @OneToMany(() => InvoiceLine, (line) => line.invoice)
  lines!: InvoiceLine[];
}

@External()
@Entity("bench_invoice_line")
class InvoiceLine {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 300 })
  description!: string;

  @Column({ type: "integer", default: 1 })
  quantity!: number;

  @Column({ type: "decimal", precision: 12, scale: 2 })
  amount!: string;

  @ManyToOne(() => Invoice, (invoice) => invoice.lines, { onDelete: "CASCADE" })
  invoice!: Relation<Invoice>;
}

@External()
@Entity("bench_payment")
@Index(["invoice", "receivedAt"])
class Payment extends Row {
  @Column({ type: "decimal", precision: 12, scale: 2 })
  amount!: string;

  @Column({ type: "varchar", length: 30 })
  method!: string;

  @Column({ type: "varchar", length: 30 })
  receivedAt!: string;

  @Column({ type: "varchar", length: 100, nullable: true })
  reference!: string | null;

  @ManyToOne(() => Invoice, { onDelete: "CASCADE" })
  invoice!: Relation<Invoice>;
}

@External()
@Entity("bench_warehouse")
class Warehouse extends Row {
  @Column({ type: "varchar", length: 100 })
  name!: string;

  @Column({ type: "varchar", length: 2 })
  country!: string;

  @Column({ type: "boolean", default: true })
  open!: boolean;
}

@External()
@Entity("bench_stock_level")
@Unique(["warehouse", "product"])
class StockLevel {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "integer", default: 0 })
  onHand!: number;

  @Column({ type: "integer", default: 0 })
  reserved!: number;

  @VersionColumn()
  version!: number;

  @ManyToOne(() => Warehouse, { onDelete: "CASCADE" })
  warehouse!: Relation<Warehouse>;

  @ManyToOne(() => Product, { onDelete: "CASCADE" })
  product!: Relation<Product>;
}

@External()
@Entity("bench_shipment")
class Shipment extends Row {
  @Column({ type: "varchar", length: 60, nullable: true })
  carrier!: string | null;

  @Index()
  @Column({ type: "varchar", length: 60, nullable: true })
  trackingNumber!: string | null;

  @Column({ type: "varchar", length: 30, nullable: true })
  shippedAt!: string | null;

  @ManyToOne(() => Order, { onDelete: "CASCADE" })
  order!: Relation<Order>;

  @ManyToOne(() => Warehouse)
  warehouse!: Relation<Warehouse>;
}

@External()
@Entity("bench_supplier")
class Supplier extends Row {
  @Column({ type: "varchar", length: 200 })
  name!: string;

  @Column({ type: "varchar", length: 254, nullable: true })
  email!: string | null;

  @Column({ type: "integer", default: 14 })
  paymentTermDays!: number;
}

@External()
@Entity("bench_purchase_order")
class PurchaseOrder extends Row {
  @Index({ unique: true })
  @Column({ type: "varchar", length: 20 })
  number!: string;

  @Column({ type: "decimal", precision: 12, scale: 2, default: 0 })
  total!: string;

  @Column({ type: "simple-json", nullable: true })
  lines!: Array<{ sku: string; quantity: number }> | null;

  @ManyToOne(() => Supplier)
  supplier!: Relation<Supplier>;

  @ManyToOne(() => Warehouse)
  deliverTo!: Relation<Warehouse>;
}

@External()
@Entity("bench_audit_event")
@Index(["entity", "entityId"])
class AuditEvent {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 60 })
  entity!: string;

  @Column({ type: "integer" })
  entityId!: number;

  @Column({ type: "varchar", length: 30 })
  action!: string;

  @Column({ type: "simple-json", nullable: true })
  changes!: Record<string, unknown> | null;

  @CreateDateColumn()
  at!: Date;

  @ManyToOne(() => User, { nullable: true, onDelete: "SET NULL" })
  actor!: Relation<User> | null;
}

@External()
@Entity("bench_notification")
@Index(["recipient", "read"])
class Notification extends Row {
  @Column({ type: "varchar", length: 200 })
  title!: string;

  @Column({ type: "text", nullable: true })
  body!: string | null;

  @Column({ type: "boolean", default: false })
  read!: boolean;

  @ManyToOne(() => User, { onDelete: "CASCADE" })
  recipient!: Relation<User>;
}

@External()
@Entity("bench_api_key")
class ApiKey extends Row {
  @Column({ type: "varchar", length: 100 })
  label!: string;

  @Index({ unique: true })
  @Column({ type: "varchar", length: 64 })
  hash!: string;

  @Column({ type: "varchar", length: 30, nullable: true })
  lastUsedAt!: string | null;

  @Column({ type: "simple-array" })
  scopes!: string[];

  @ManyToOne(() => User, { onDelete: "CASCADE" })
  owner!: Relation<User>;
}

@External()
@Entity("bench_webhook")
class Webhook extends Row {
  @Column({ type: "varchar", length: 500 })
  url!: string;

  @Column({ type: "simple-array" })
  events!: string[];

  @Column({ type: "varchar", length: 64 })
  secret!: string;

  @Column({ type: "boolean", default: true })
  enabled!: boolean;

  @ManyToOne(() => Account, { onDelete: "CASCADE" })
  account!: Relation<Account>;
}

@External()
@Entity("bench_webhook_delivery")
@Index(["webhook", "createdAt"])
class WebhookDelivery extends Row {
  @Column({ type: "integer" })
  statusCode!: number;

  @Column({ type: "integer", default: 1 })
  attempt!: number;

  @Column({ type: "text", nullable: true })
  responseBody!: string | null;

  @ManyToOne(() => Webhook, { onDelete: "CASCADE" })
  webhook!: Relation<Webhook>;
}

/**
 * Thirty `@External` entities of a small SaaS, with relations of every kind (including
 * many-to-many junction tables and a closure-table tree) and indexes: the entity set whose
 * per-tenant heap cost the heap bench measures.
 */
export const THIRTY_ENTITIES = [
  Account,
  User,
  UserProfile,
  Role,
  Permission,
  Team,
  Project,
  Task,
  TaskComment,
  Tag,
  Attachment,
  Customer,
  Address,
  ProductCategory,
  Product,
  Order,
  OrderLine,
  Invoice,
  InvoiceLine,
  Payment,
  Warehouse,
  StockLevel,
  Shipment,
  Supplier,
  PurchaseOrder,
  AuditEvent,
  Notification,
  ApiKey,
  Webhook,
  WebhookDelivery,
] as const;
