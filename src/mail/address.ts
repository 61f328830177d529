import addressparser from 'nodemailer/lib/addressparser';

/** The bare address of a header value like `Name <a@b.c>`. */
export function addressOf(header: string): string {
  const [first] = addressparser(header) as { address?: string }[];
  return first?.address ?? header;
}
