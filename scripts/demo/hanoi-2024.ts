import { Category, Indicator } from '@kcflow/domain';

/**
 * The demo programme: Hanoi's 2024 khuyến công plan as the seed article
 * (../shared/seed/) describes it. The targets are the article's; the article gives no
 * budget, so the allocations are illustrative figures sized to those targets.
 */
export const HANOI_2024 = {
  id: 'HN-2024-city',
  name: 'Kế hoạch khuyến công năm 2024 của UBND TP. Hà Nội',
  year: 2024,
  fundingSource: 'city' as const,
  allocations: {
    vocational_training: 6_000_000_000,
    management_training: 4_000_000_000,
    demonstration_model: 5_000_000_000,
    advanced_equipment: 4_500_000_000,
    trade_fair: 6_500_000_000,
    product_design: 3_500_000_000,
    consulting: 1_000_000_000,
    ecommerce: 1_500_000_000,
  } satisfies Record<Category, number>,
  targets: {
    new_designs: { min: 650, max: 800 },
    fair_participations: { min: 600, max: 650 },
    facilities_equipped: { min: 10, max: 15 },
    managers_trained: { min: 2000, max: 2500 },
  } satisfies Partial<Record<Indicator, { min: number; max: number }>>,
};

/** Rural districts of Hanoi and craft villages in them. */
export const PLACES: { district: string; commune: string; craftVillage?: string; craft: string }[] = [
  { district: 'Chương Mỹ', commune: 'Phú Nghĩa', craftVillage: 'Phú Vinh', craft: 'mây tre đan' },
  { district: 'Gia Lâm', commune: 'Bát Tràng', craftVillage: 'Bát Tràng', craft: 'gốm sứ' },
  { district: 'Phú Xuyên', commune: 'Chuyên Mỹ', craftVillage: 'Chuyên Mỹ', craft: 'khảm trai' },
  { district: 'Hoài Đức', commune: 'Sơn Đồng', craftVillage: 'Sơn Đồng', craft: 'tượng gỗ' },
  { district: 'Ứng Hòa', commune: 'Quảng Phú Cầu', craftVillage: 'Quảng Phú Cầu', craft: 'tăm hương' },
  { district: 'Thường Tín', commune: 'Nhị Khê', craftVillage: 'Nhị Khê', craft: 'tiện gỗ' },
  { district: 'Thạch Thất', commune: 'Phùng Xá', craftVillage: 'Phùng Xá', craft: 'cơ khí' },
  { district: 'Thạch Thất', commune: 'Chàng Sơn', craftVillage: 'Chàng Sơn', craft: 'mộc' },
  { district: 'Mỹ Đức', commune: 'Phùng Xá', craft: 'dệt may' },
  { district: 'Thanh Oai', commune: 'Bình Minh', craftVillage: 'Cự Đà', craft: 'miến dong' },
  { district: 'Quốc Oai', commune: 'Phú Cát', craft: 'chế biến nông sản' },
  { district: 'Sóc Sơn', commune: 'Minh Phú', craft: 'chế biến gỗ' },
  { district: 'Ba Vì', commune: 'Vân Hòa', craft: 'chế biến sữa' },
  { district: 'Đan Phượng', commune: 'Liên Hà', craft: 'mộc' },
  { district: 'Mê Linh', commune: 'Tiền Phong', craft: 'hoa, cây cảnh' },
  { district: 'Phúc Thọ', commune: 'Hát Môn', craft: 'nón lá' },
];

export const FAMILY_NAMES = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Ngô'];
export const GIVEN_NAMES = ['Văn An', 'Thị Bình', 'Văn Chung', 'Thị Dung', 'Đức Mạnh', 'Thị Hương', 'Quang Huy', 'Thị Lan', 'Minh Tuấn', 'Thị Yến'];

/** Per category: a project's typical size and what it is expected to achieve. */
export const PROJECT_SHAPES: Record<Category, { title: string; cost: [number, number]; outcomes: Partial<Record<Indicator, [number, number]>> }> = {
  vocational_training: { title: 'Lớp truyền nghề, nâng cao tay nghề', cost: [80_000_000, 200_000_000], outcomes: { workers_trained: [25, 40], jobs_created: [5, 20] } },
  management_training: { title: 'Lớp nâng cao năng lực quản lý', cost: [60_000_000, 150_000_000], outcomes: { managers_trained: [30, 60] } },
  demonstration_model: { title: 'Mô hình trình diễn kỹ thuật', cost: [800_000_000, 2_500_000_000], outcomes: { jobs_created: [10, 30], facilities_equipped: [1, 1] } },
  advanced_equipment: { title: 'Ứng dụng máy móc thiết bị tiên tiến', cost: [300_000_000, 900_000_000], outcomes: { facilities_equipped: [1, 1], jobs_created: [5, 15] } },
  trade_fair: { title: 'Tham gia hội chợ, triển lãm', cost: [20_000_000, 60_000_000], outcomes: { fair_participations: [1, 3], export_value_vnd: [0, 500_000_000] } },
  product_design: { title: 'Thiết kế mẫu sản phẩm mới', cost: [40_000_000, 120_000_000], outcomes: { new_designs: [5, 15] } },
  consulting: { title: 'Tư vấn phát triển sản xuất', cost: [20_000_000, 60_000_000], outcomes: { jobs_created: [1, 5] } },
  ecommerce: { title: 'Đưa sản phẩm lên sàn thương mại điện tử', cost: [30_000_000, 90_000_000], outcomes: { export_value_vnd: [0, 300_000_000] } },
};
