/** Who issues a command, as the domain needs to know it (roles are checked at the edge). */
export interface CommandActor {
  id: string;
  name?: string;
}
