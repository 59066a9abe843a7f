import { IsString, Length, Matches } from 'class-validator';

const NAME = /^[\p{L}\p{N}_.-]+$/u;

/** POST /api/login */
export class LoginDto {
  @IsString()
  @Length(1, 20)
  @Matches(NAME, { message: 'name may contain letters, digits, "_", "." and "-"' })
  name!: string;
}

/** POST /api/announce */
export class AnnounceDto {
  @IsString()
  @Length(1, 500)
  text!: string;
}

/** chat:join, chat:leave */
export class RoomDto {
  @IsString()
  @Length(1, 30)
  @Matches(NAME, { message: 'room may contain letters, digits, "_", "." and "-"' })
  room!: string;
}

/** chat:message */
export class ChatMessageDto extends RoomDto {
  @IsString()
  @Length(1, 500)
  text!: string;
}

/** chat:private */
export class PrivateMessageDto {
  @IsString()
  @Length(1, 20)
  to!: string;

  @IsString()
  @Length(1, 500)
  text!: string;
}
