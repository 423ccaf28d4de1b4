"""Words the demo data is made of: products, names and addresses in English and Chinese."""

from __future__ import annotations

PRODUCTS: tuple[tuple[str, str, tuple[int, int, int], int], ...] = (
    # (English noun, Chinese noun, typical dimensions mm (l, w, h), typical weight g)
    ("Mug", "马克杯", (120, 90, 100), 350),
    ("Notebook", "笔记本", (210, 148, 15), 280),
    ("Water bottle", "水瓶", (75, 75, 260), 220),
    ("Phone case", "手机壳", (160, 85, 15), 60),
    ("USB cable", "数据线", (120, 80, 20), 50),
    ("Desk lamp", "台灯", (300, 180, 160), 1200),
    ("T-shirt", "T恤", (300, 220, 30), 200),
    ("Socks", "袜子", (200, 100, 30), 80),
    ("Headphones", "耳机", (200, 180, 80), 300),
    ("Tea tin", "茶叶罐", (100, 100, 140), 260),
    ("Pen set", "钢笔套装", (170, 60, 25), 120),
    ("Backpack", "背包", (420, 300, 150), 900),
    ("Towel", "毛巾", (300, 250, 60), 450),
    ("Rice cooker", "电饭煲", (320, 280, 260), 3200),
    ("Board game", "桌游", (300, 300, 80), 1100),
    ("Scarf", "围巾", (250, 200, 40), 180),
    ("Candle", "蜡烛", (80, 80, 100), 300),
    ("Chopsticks", "筷子", (250, 60, 20), 90),
    ("Power bank", "充电宝", (140, 70, 25), 250),
    ("Plant pot", "花盆", (160, 160, 150), 700),
)

ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("Red", "红色"),
    ("Blue", "蓝色"),
    ("Green", "绿色"),
    ("Black", "黑色"),
    ("White", "白色"),
    ("Large", "大号"),
    ("Small", "小号"),
    ("Classic", "经典"),
    ("Travel", "旅行"),
    ("Eco", "环保"),
    ("Deluxe", "豪华"),
    ("Mini", "迷你"),
    ("Striped", "条纹"),
    ("Bamboo", "竹制"),
    ("Steel", "不锈钢"),
)

FIRST_NAMES = (
    "Alice",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Katie",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Peter",
    "Ruby",
    "Sam",
    "Tara",
    "Victor",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Hughes",
)
STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "Mill Road",
    "Victoria Street",
    "Queen's Road",
    "Kings Way",
    "Market Place",
    "Bridge Street",
)
CITIES = (
    ("London", "SW1A 1AA", "GB"),
    ("Manchester", "M1 1AE", "GB"),
    ("Leeds", "LS1 4DY", "GB"),
    ("Bristol", "BS1 4DJ", "GB"),
    ("Berlin", "10115", "DE"),
    ("Hamburg", "20095", "DE"),
    ("Amsterdam", "1012 JS", "NL"),
    ("Dublin", "D02 X285", "IE"),
)

ZH_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴")
ZH_GIVEN = ("芳", "伟", "娜", "敏", "静", "强", "磊", "洋", "艳", "军", "杰", "丽")
ZH_CITIES = (
    ("上海市", "浦东新区", "200120", "世纪大道"),
    ("北京市", "朝阳区", "100020", "建国路"),
    ("广州市", "天河区", "510620", "天河路"),
    ("深圳市", "南山区", "518057", "科技园路"),
    ("杭州市", "西湖区", "310013", "文三路"),
    ("成都市", "武侯区", "610041", "人民南路"),
)

CARRIERS = ("DHL", "UPS", "SF Express", "Royal Mail")
