import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DEV_JWT_SECRET, DEFAULT_DEV_TOKEN_LIFETIME, Public, ROLES, signDevToken, type Role } from '@kcflow/auth';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** One demo identity per role, as the README's walkthrough names them. */
export const DEMO_IDENTITIES: ReadonlyArray<{ sub: string; roles: Role[]; name: string }> = [
  { sub: 'htx-phu-vinh', roles: ['applicant'], name: 'HTX Mây tre đan Phú Vinh' },
  { sub: 'reviewer-1', roles: ['reviewer'], name: 'Nguyễn Thị Thẩm Định' },
  { sub: 'committee-1', roles: ['committee'], name: 'Trần Văn Phê Duyệt' },
  { sub: 'finance-1', roles: ['finance'], name: 'Lê Thị Kế Toán' },
  { sub: 'inspector-1', roles: ['inspector'], name: 'Phạm Văn Thanh Tra' },
  { sub: 'admin-1', roles: ['admin'], name: 'Hoàng Quản Trị' },
];

export class DevTokenRequestDto {
  @ApiProperty({ example: 'committee-1' })
  @Matches(/^[A-Za-z0-9._:@-]{1,100}$/, { message: 'sub must be 1–100 letters, digits or . _ : @ -' })
  sub: string;
  @ApiProperty({ enum: ROLES, isArray: true, example: ['committee'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(ROLES.length) @IsIn(ROLES, { each: true })
  roles: Role[];
  @ApiPropertyOptional({ example: 'Trần Văn Phê Duyệt' }) @IsOptional() @IsString() @MaxLength(200) name?: string;
}

/**
 * Development only: mints tokens signed with the documented development secret, for the
 * console's identity picker. AppModule registers it only while that secret is in use, so
 * under production auth settings these routes do not exist (404). It gives nothing away:
 * anyone can already mint such tokens with `npm run token` and the published secret.
 */
@ApiTags('development')
@Controller('dev/tokens')
@Public()
export class DevTokensController {
  @Get()
  identities() {
    return { developmentOnly: true, identities: DEMO_IDENTITIES };
  }

  @Post()
  @HttpCode(201)
  async mint(@Body() body: DevTokenRequestDto) {
    const token = await signDevToken({ sub: body.sub, roles: body.roles, name: body.name }, DEV_JWT_SECRET);
    return { developmentOnly: true, token, expiresIn: DEFAULT_DEV_TOKEN_LIFETIME };
  }
}
